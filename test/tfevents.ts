/**
 * An independent reader of TensorBoard event files for the tests: TFRecord framing checked with
 * @aws-crypto/crc32c, Event protocol buffers decoded by protobufjs from the .proto text below (field numbers
 * from TensorBoard's event.proto, summary.proto, tensor.proto and tensor_shape.proto). Nothing here comes from
 * lab/tensorboard.ts, so the writer is checked against another implementation of both formats.
 */
import fs from 'node:fs';
import { crc32c } from '@aws-crypto/crc32c';
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package tensorboard;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
message Summary {
  message Image {
    int32 height = 1;
    int32 width = 2;
    int32 colorspace = 3;
    bytes encoded_image_string = 4;
  }
  message Value {
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      Image image = 4;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}
message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  int32 data_class = 4;
}
message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
}
message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  repeated bytes string_val = 8;
}
`;

const Event = protobuf.parse(PROTO).root.lookupType('tensorboard.Event');

export interface DecodedValue {
  tag: string;
  simpleValue?: number;
  image?: { height: number; width: number; colorspace: number; encodedImageString: Uint8Array };
  tensor?: { dtype: number; tensorShape?: { dim?: unknown[] }; stringVal?: Uint8Array[] };
  metadata?: { pluginData?: { pluginName: string }; dataClass?: number };
}

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: { value: DecodedValue[] };
}

/** TFRecord's masked CRC32C, from the independent CRC. */
export function maskedCrc(bytes: Uint8Array): number {
  const c = crc32c(bytes) >>> 0;
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/**
 * The events of an event file. Every complete record's CRCs are checked (a mismatch throws); an incomplete
 * last record (a writer killed mid-write) ends the file, and `torn` says so, as TensorBoard's reader stops there.
 */
export function readEventFile(file: string): { events: DecodedEvent[]; torn: boolean } {
  const buf = fs.readFileSync(file);
  const events: DecodedEvent[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < 12) return { events, torn: true };
    const lengthBytes = buf.subarray(at, at + 8);
    if (maskedCrc(lengthBytes) !== buf.readUInt32LE(at + 8)) throw new Error(`record at byte ${at}: length CRC mismatch`);
    const length = Number(buf.readBigUInt64LE(at));
    if (buf.length - at < 12 + length + 4) return { events, torn: true };
    const data = buf.subarray(at + 12, at + 12 + length);
    if (maskedCrc(data) !== buf.readUInt32LE(at + 12 + length)) throw new Error(`record at byte ${at}: data CRC mismatch`);
    events.push(Event.toObject(Event.decode(data), { longs: Number, bytes: Buffer, defaults: false }) as DecodedEvent);
    at += 12 + length + 4;
  }
  return { events, torn: false };
}

/** The scalars of decoded events as `tag → [[step, value], …]`. */
export function scalarsByTag(events: readonly DecodedEvent[]): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const e of events) {
    for (const v of e.summary?.value ?? []) {
      if (v.simpleValue === undefined) continue;
      if (!out.has(v.tag)) out.set(v.tag, []);
      out.get(v.tag)!.push([e.step ?? 0, v.simpleValue]);
    }
  }
  return out;
}

/** The one event file (`events.out.tfevents.*`) of a run directory. */
export function eventFileOf(runDir: string): string {
  const files = fs.readdirSync(runDir).filter((f) => f.includes('tfevents'));
  if (files.length !== 1) throw new Error(`${runDir}: expected one event file, found ${files.length}: ${files.join(', ')}`);
  return `${runDir}/${files[0]}`;
}
