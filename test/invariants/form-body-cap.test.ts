import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { MAX_FORM_BYTES } from '../../src/authorization/form-body.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

/**
 * Every form endpoint reads its body with one byte cap (SEC-27 forms, and no memory exhaustion): a body
 * sent chunked, with no Content-Length, is refused with 413 as soon as it passes `MAX_FORM_BYTES`,
 * its stream cancelled, instead of being buffered whole before the size is checked.
 */
const CHUNK = 1024;
const TOTAL_CHUNKS = 1024; // 1 MiB offered, 64 times the cap

/** A form body of `TOTAL_CHUNKS` chunks produced on demand, counting how many the server pulled. */
function endlessForm() {
  const state = { pulled: 0, cancelled: false };
  const chunk = new TextEncoder().encode('a'.repeat(CHUNK));
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === TOTAL_CHUNKS) return controller.close();
      state.pulled++;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

const JSON_ENDPOINTS = ['/token', '/revoke', '/introspect'];
const PAGE_ENDPOINTS = ['/authorize', '/login', '/consent', '/logout', '/admin/sign-in'];

describe('SEC-27: form bodies are read by one reader with a byte cap, chunked or not', () => {
  let app: TestApp;
  before(async () => {
    app = await createTestApp();
  });

  const post = (path: string, body: ReadableStream<Uint8Array> | string) =>
    app.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body, duplex: 'half' } as RequestInit);

  for (const path of [...JSON_ENDPOINTS, ...PAGE_ENDPOINTS]) {
    it(`${path}: a chunked body over ${MAX_FORM_BYTES} bytes is refused with 413 after reading little more than the cap`, async () => {
      const { stream, state } = endlessForm();
      const response = await post(path, stream);
      assert.equal(response.status, 413);
      const pulledBytes = state.pulled * CHUNK;
      assert.ok(pulledBytes <= MAX_FORM_BYTES + 4 * CHUNK, `read ${pulledBytes} bytes of a ${TOTAL_CHUNKS * CHUNK}-byte body`);
      assert.equal(state.cancelled, true, 'the rest of the body is cancelled, not drained');
      if (JSON_ENDPOINTS.includes(path)) {
        assert.deepEqual(((await response.json()) as { error: string }).error, 'invalid_request');
      } else {
        assert.match(response.headers.get('Content-Type') ?? '', /^text\/html/);
        assert.match(await response.text(), /The request body is too large/);
      }
    });
  }

  for (const path of [...JSON_ENDPOINTS, ...PAGE_ENDPOINTS]) {
    it(`SHAPE-5 RFC 6749 §5.2 ${path}: a body that is not a form is 400 invalid_request, the same at every form endpoint`, async () => {
      const response = await app.request(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"grant_type":"client_credentials"}' });
      assert.equal(response.status, 400);
      if (JSON_ENDPOINTS.includes(path)) {
        assert.deepEqual(await response.json(), { error: 'invalid_request', error_description: 'The request body must be application/x-www-form-urlencoded.' });
        assert.equal(response.headers.get('Cache-Control'), 'no-store');
      } else {
        assert.match(response.headers.get('Content-Type') ?? '', /^text\/html/);
        assert.match(await response.text(), /must be application\/x-www-form-urlencoded/);
      }
    });
  }

  it('the cap counts bytes, not characters, and a body at the cap is read', async () => {
    // Three-byte characters: under the cap as a string length, over it in bytes.
    const multiByte = 'x=' + '€'.repeat(Math.ceil(MAX_FORM_BYTES / 3) + 1);
    assert.ok(multiByte.length < MAX_FORM_BYTES && Buffer.byteLength(multiByte) > MAX_FORM_BYTES);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(multiByte));
        controller.close();
      },
    });
    assert.equal((await post('/token', chunked)).status, 413);
    const atCap = 'grant_type=client_credentials&pad=' + 'a'.repeat(MAX_FORM_BYTES - 'grant_type=client_credentials&pad='.length);
    const answer = await post('/token', atCap);
    assert.notEqual(answer.status, 413, 'exactly the cap is allowed');
  });
});
