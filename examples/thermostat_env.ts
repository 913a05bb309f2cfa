/**
 * Example plug-in env with no picture of its own: a room heated on or off against an outside temperature that
 * follows a daily cycle. Its json frames are values frames (`valuesFrame`: labelled bars), so the viewer shows
 * the room, the outside and the heater live and in replays without a renderer written for it; its `ansi` render is
 * one line of text. Registered as Thermostat-v0:
 *
 *   npx lab train --env ./examples/thermostat_env.ts:Thermostat-v0 --agent a2c --steps 100000 --live
 *
 * Each step is 10 minutes: the room loses heat to the outside in proportion to the difference, the heater adds
 * 0.6 °C when on. Reward: minus the distance to the 21 °C setpoint in °C over 10, minus 0.05 when the heater is on
 * (its energy). 144 steps (a day) per episode, starting at a random time of day and room temperature.
 */
import { Box, Discrete, Env, register, valuesFrame, type EnvSnapshot, type ResetArgs, type ResetResult, type StepResult, type TypedArray, type ValuesFrame } from '../index.js';

const SETPOINT = 21;
const STEPS_PER_DAY = 144;
/** Share of the room–outside difference lost per step, and the heater's gain per step (°C). */
const LOSS = 0.03;
const HEAT = 0.6;

/** Outside temperature (°C) at a step of the day: 7 °C on average, ±6 °C, coldest at 4 a.m. */
export function outsideTemperature(step: number): number {
  return 7 - 6 * Math.cos((2 * Math.PI * (step - 24)) / STEPS_PER_DAY);
}

export class ThermostatEnv extends Env<TypedArray, number> {
  /** Room temperature − setpoint (°C), outside temperature (°C), the time of day as cos and sin, the heater (0/1). */
  readonly observationSpace = new Box([-30, -20, -1, -1, 0], [30, 30, 1, 1, 1]);
  readonly actionSpace = new Discrete(2);
  private room = SETPOINT;
  private clock = 0;
  private heater = 0;

  constructor() {
    super();
    this.metadata = { renderModes: ['json', 'ansi'], renderFps: 12 };
  }

  private observe(): Float32Array {
    const angle = (2 * Math.PI * this.clock) / STEPS_PER_DAY;
    return Float32Array.of(this.room - SETPOINT, outsideTemperature(this.clock), Math.cos(angle), Math.sin(angle), this.heater);
  }

  override reset(args: ResetArgs = {}): ResetResult<TypedArray> {
    super.reset(args);
    this.clock = Math.floor(this.npRandom.double() * STEPS_PER_DAY);
    this.room = 12 + this.npRandom.double() * 12;
    this.heater = 0;
    return [this.observe(), {}];
  }

  step(action: number): StepResult<TypedArray> {
    this.heater = action === 1 ? 1 : 0;
    this.room += LOSS * (outsideTemperature(this.clock) - this.room) + HEAT * this.heater;
    this.clock = (this.clock + 1) % STEPS_PER_DAY;
    const reward = -Math.abs(this.room - SETPOINT) / 10 - 0.05 * this.heater;
    return [this.observe(), reward, false, false, { room: this.room }];
  }

  render(): ValuesFrame | string {
    const time = `${String(Math.floor(this.clock / 6)).padStart(2, '0')}:${String((this.clock % 6) * 10).padStart(2, '0')}`;
    if (this.renderMode === 'ansi') return `${time}  room ${this.room.toFixed(1)} °C  outside ${outsideTemperature(this.clock).toFixed(1)} °C  heater ${this.heater ? 'on' : 'off'}`;
    return valuesFrame([this.room, outsideTemperature(this.clock), this.heater], {
      labels: ['room °C', 'outside °C', 'heater'],
      low: [0, -20, 0],
      high: [35, 35, 1],
      title: `${time} · setpoint ${SETPOINT} °C`,
    });
  }

  override snapshot(): EnvSnapshot {
    return { room: this.room, clock: this.clock, heater: this.heater, rng: this.rngSnapshot() };
  }

  override restore(snapshot: EnvSnapshot): void {
    this.room = snapshot.room as number;
    this.clock = snapshot.clock as number;
    this.heater = snapshot.heater as number;
    this.restoreRng(snapshot.rng as Parameters<Env['restoreRng']>[0]);
  }
}

register({
  id: 'Thermostat-v0',
  entryPoint: () => new ThermostatEnv(),
  maxEpisodeSteps: STEPS_PER_DAY,
  description: 'examples/thermostat_env.ts: keep a room at 21 °C with a heater, against a daily outside cycle',
});
