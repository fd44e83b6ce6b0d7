import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { secrets } from '../secrets.ts';
import type { Html } from './html.ts';

/**
 * Answers of the UI. Every page passes through the secret registry as a
 * whole before it leaves (the data was masked before rendering too), and
 * carries a policy that lets it load only the daemon's own script and style.
 */

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** Answers larger than this are compressed for browsers that accept gzip. */
const COMPRESS_FROM = 16 * 1024;

export function sendHtml(req: IncomingMessage, res: ServerResponse, status: number, page: Html, headers: Record<string, string> = {}): void {
  send(req, res, status, secrets.maskText(page.text), 'text/html; charset=utf-8', { ...SECURITY_HEADERS, ...headers });
}

export function sendAsset(req: IncomingMessage, res: ServerResponse, body: string, contentType: string): void {
  send(req, res, 200, body, contentType, { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' });
}

export function redirect(res: ServerResponse, location: string): void {
  if (res.headersSent) return;
  res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
  res.end();
}

function send(req: IncomingMessage, res: ServerResponse, status: number, text: string, contentType: string, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  let body: Buffer = Buffer.from(text, 'utf8');
  const extra: Record<string, string> = {};
  if (body.length >= COMPRESS_FROM && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    body = gzipSync(body, { level: 6 });
    extra['Content-Encoding'] = 'gzip';
  }
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': body.length, Vary: 'Accept-Encoding', ...headers, ...extra });
  res.end(body);
}
