'use strict';
// Preloaded (`node --require`) into every synthesis process Plumbline starts.
//
// cdktf asks for a stack trace of every Terraform element it creates
// (`node.addMetadata('stacktrace', ...)` in TerraformElement) and writes it into
// the element's `//` metadata in cdk.tf.json, next to its construct path. Since
// constructs 10, a trace is captured only when the caller asks for one, which
// cdktf 0.21 never does, so that field is always empty. This asks on cdktf's
// behalf, keeping only the frames in the app's own files (no package, no Node
// internals), so that a Terraform error about a resource can name the
// TypeScript line that created it. It patches `Node.prototype.addMetadata` of
// each copy of constructs when it is first required; nothing else changes.
const Module = require('node:module');

const PATCHED = Symbol.for('plumbline.cdktf.traces');
/** Frames kept per element: where it was created, and the two callers above. */
const KEPT_FRAMES = 3;
/** Deep enough to get through a few layers of library constructs into the app's code. */
const CAPTURED_FRAMES = 40;

const originalLoad = Module._load;
Module._load = function load(request, parent, isMain) {
  const exports = originalLoad.call(this, request, parent, isMain);
  if (request === 'constructs') patch(exports);
  return exports;
};

function patch(exports) {
  const proto = exports && exports.Node && exports.Node.prototype;
  if (!proto || typeof proto.addMetadata !== 'function' || proto[PATCHED]) return;
  const addMetadata = proto.addMetadata;
  proto.addMetadata = function addMetadataWithTrace(type, data, options) {
    if (type === 'stacktrace' && !(options && (options.stackTrace !== undefined || options.stackTraceOverride))) {
      const frames = ownFrames();
      if (frames.length > 0) return addMetadata.call(this, type, data, { ...options, stackTraceOverride: frames });
    }
    return addMetadata.call(this, type, data, options);
  };
  Object.defineProperty(proto, PATCHED, { value: true });
}

function ownFrames() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = CAPTURED_FRAMES;
  const holder = {};
  Error.captureStackTrace(holder, ownFrames);
  Error.stackTraceLimit = limit;
  const frames = [];
  for (const line of String(holder.stack).split('\n').slice(1)) {
    const frame = line.trim();
    if (!frame.startsWith('at ') || frame.includes(__filename) || /node_modules|\(node:|^at node:/.test(frame)) continue;
    frames.push(frame);
    if (frames.length === KEPT_FRAMES) break;
  }
  return frames;
}
