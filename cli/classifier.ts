/** `lab gan train-classifier`: trains and saves the Quick, Draw! feature classifier of the GAN metrics. */
import { InvalidArgumentError, type Command } from 'commander';
import { backendOption, integer } from './args.js';
import { initCompute, type BackendChoice, type ComputeInfo } from '../lab/compute.js';
import { CLASSIFIER_DIR, trainClassifier, type ClassifierInfo } from '../gan/classifier.js';

export interface TrainClassifierCliOptions {
  seed: number;
  epochs: number;
  batch: number;
  learningRate: number;
  shift: number;
  out: string;
  backend: BackendChoice;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

/** Adds the options of `lab gan train-classifier` to a command. */
export function classifierTrainOptions(command: Command): Command {
  return command
    .option('--seed <n>', 'seed of the split, the initial weights, the batches and the shifts', integer(0), 1)
    .option('--epochs <n>', 'passes over the training images', integer(1), 15)
    .option('--batch <n>', 'batch size', integer(1), 64)
    .option('--learning-rate <x>', 'Adam learning rate', positive, 1e-3)
    .option('--shift <px>', 'random shifts of up to this many pixels (augmentation; 0: none)', integer(0), 2)
    .option('--out <dir>', 'where to write model.json, weights.bin and classifier.json', CLASSIFIER_DIR)
    .addOption(backendOption());
}

/** What `lab gan train-classifier` does: trains, prints progress and the held-out accuracy, saves. */
export async function trainClassifierCli(opts: TrainClassifierCliOptions): Promise<ClassifierInfo> {
  const compute: ComputeInfo = await initCompute(opts.backend);
  console.log(`backend ${compute.backend}: ${compute.reason}`);
  const { classifier, info } = await trainClassifier({
    seed: opts.seed,
    epochs: opts.epochs,
    batch: opts.batch,
    learningRate: opts.learningRate,
    shiftAugment: opts.shift,
    out: opts.out,
    log: (line) => console.log(line),
  });
  classifier.dispose();
  console.log(`held-out accuracy ${(100 * info.accuracy.heldOut).toFixed(2)}% (train ${(100 * info.accuracy.train).toFixed(2)}%), ${info.params.toLocaleString('en-US')} parameters`);
  console.log(`per class: ${Object.entries(info.accuracy.perClassHeldOut).map(([c, a]) => `${c} ${(100 * a).toFixed(1)}%`).join(', ')}`);
  console.log(`saved to ${opts.out}`);
  return info;
}

