import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { secrets } from './secrets.ts';

export type { Logger } from 'pino';

/**
 * Structured JSON logs: fields first, a fixed message (`log.info({ unit }, 'plan
 * created')`). Every line passes through the secret registry before it leaves the
 * process, so a secret that slipped into a field is still masked; known secret
 * field names are redacted by path as well.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const target = options.destination ?? process.stdout;
  const masked = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      target.write(secrets.maskText(chunk.toString('utf8')));
      callback();
    },
  });
  return pino(
    {
      level: options.level ?? process.env.PLUMBLINE_LOG_LEVEL ?? 'info',
      base: { service: 'plumbline' },
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'password', '*.password', 'secret', '*.secret'],
        censor: '(sensitive)',
      },
      serializers: { err: pino.stdSerializers.err },
    },
    masked,
  );
}

/** A logger that drops everything, for library use and tests that do not care. */
export const silentLogger: Logger = pino({ level: 'silent' });
