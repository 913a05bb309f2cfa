/**
 * TensorBoard event files, written without TensorFlow or Python: TFRecord framing with masked CRC32C around
 * serialized `Event` protocol buffers that carry scalars, images (PNG) and text.
 *
 * Formats (TensorBoard's `record_writer.py`, `event.proto`, `summary.proto`, `tensor.proto`; docs/interop.md):
 *   record   uint64 length ‖ uint32 masked_crc32c(length bytes) ‖ data ‖ uint32 masked_crc32c(data), little-endian
 *   mask     ((crc >>> 15) | (crc << 17)) + 0xA282EAD8  (mod 2^32)
 *   Event    wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5
 *   Summary  value = 1 (repeated): tag = 1, simple_value = 2 (float), image = 4, tensor = 8, metadata = 9
 *   Image    height = 1, width = 2, colorspace = 3, encoded_image_string = 4
 *   Tensor   dtype = 1 (DT_STRING = 7), tensor_shape = 2 (empty: a scalar), string_val = 8
 *   Metadata plugin_data = 1 {plugin_name = 1, content = 2}, data_class = 4 (DATA_CLASS_TENSOR = 2)
 *
 * The protobuf encoder is hand-written: these four messages need a dozen fields of four wire types, far less
 * code than a protobuf library's runtime plus generated code, and it costs nothing per record but the bytes.
 * CRC32C comes from the `crc-32` package (its crc32c module). The tests decode these files with protobufjs
 * and another CRC32C implementation, so none of this code checks itself.
 */
import { createRequire } from 'node:module';

/** `crc-32/crc32c`: the same API as `crc-32` (its types), with the Castagnoli polynomial. */
const CRC32C = createRequire(import.meta.url)('crc-32/crc32c.js') as typeof import('crc-32');

/** CRC32C (Castagnoli, reflected 0x82F63B78, init and final xor 0xFFFFFFFF) of `bytes`, unsigned. */
export function crc32c(bytes: Uint8Array): number {
  return CRC32C.buf(bytes) >>> 0;
}

/** TFRecord's masked CRC32C: the CRC rotated right by 15 bits plus 0xA282EAD8 (mod 2^32). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord around `data`: length, masked CRC of the length, data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Protocol buffer encoding (proto3 wire format: varint = 0, 64-bit = 1, length-delimited = 2, 32-bit = 5)

class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  private varint(value: number | bigint): void {
    let v = BigInt(value);
    const bytes: number[] = [];
    while (v > 0x7fn) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.parts.push(Uint8Array.from(bytes));
  }

  private key(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** An unsigned integer field (int32, int64 and enum values that are never negative). */
  uint(field: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`protobuf field ${field}: ${value} is not a non-negative integer`);
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  double(field: number, value: number): this {
    this.key(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.parts.push(b);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.parts.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(value.length);
    this.parts.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, inner: ProtoWriter): this {
    return this.bytes(field, inner.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** One value of a summary: a scalar, an image or a text. */
export type SummaryValue =
  | { tag: string; scalar: number }
  | { tag: string; image: { png: Uint8Array; width: number; height: number; colorspace: ImageColorspace } }
  | { tag: string; text: string };

/** Summary.Image's colorspace: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
export type ImageColorspace = 1 | 2 | 3 | 4;

const DT_STRING = 7;
const DATA_CLASS_TENSOR = 2;

function summaryValue(v: SummaryValue): ProtoWriter {
  const w = new ProtoWriter().string(1, v.tag);
  if ('scalar' in v) return w.float(2, v.scalar);
  if ('image' in v) {
    const { png, width, height, colorspace } = v.image;
    return w.message(4, new ProtoWriter().uint(1, height).uint(2, width).uint(3, colorspace).bytes(4, png));
  }
  // The text plugin's format (tensorboard/plugins/text/summary_v2.py): a DT_STRING tensor, plugin "text".
  const tensor = new ProtoWriter().uint(1, DT_STRING).message(2, new ProtoWriter()).string(8, v.text);
  const metadata = new ProtoWriter().message(1, new ProtoWriter().string(1, 'text').bytes(2, new Uint8Array(0))).uint(4, DATA_CLASS_TENSOR);
  return w.message(8, tensor).message(9, metadata);
}

/** The first event of every event file: `file_version: "brain.Event:2"`, as TensorBoard's writers start. */
export function fileVersionEvent(wallTime: number): Buffer {
  return new ProtoWriter().double(1, wallTime).string(3, 'brain.Event:2').finish();
}

/** An Event with a Summary of `values` at `step` (non-negative integer) and `wallTime` (seconds since 1970). */
export function summaryEvent(wallTime: number, step: number, values: readonly SummaryValue[]): Buffer {
  const summary = new ProtoWriter();
  for (const v of values) summary.message(1, summaryValue(v));
  return new ProtoWriter().double(1, wallTime).uint(2, step).message(5, summary).finish();
}

/**
 * The name TensorBoard's writers give event files, `events.out.tfevents.<%010d seconds>.<host>`: TensorBoard
 * reads every file whose name contains "tfevents".
 */
export function eventFileName(startSeconds: number, host: string): string {
  return `events.out.tfevents.${String(Math.floor(startSeconds)).padStart(10, '0')}.${host}`;
}

/** True for a file name TensorBoard's writers (and the lab) give event files. */
export function isEventFileName(name: string): boolean {
  return /^events\.out\.tfevents\.\d+\./.test(name);
}
