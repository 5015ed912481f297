import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutPassword } from '../../src/bootstrap/banner.ts';

describe('GEN-06 printed settings never show a credential', () => {
  it('masks a URL password and credential-looking query parameters, and keeps the rest', () => {
    assert.equal(withoutPassword('postgres://app:s3cret@db.internal:5432/portcullis'), 'postgres://app:***@db.internal:5432/portcullis');
    const masked = withoutPassword('postgres://app@db/portcullis?sslmode=require&password=s3cret&sslpassword=k3y');
    assert.ok(!masked.includes('s3cret') && !masked.includes('k3y'), masked);
    assert.match(masked, /sslmode=require/);
    const api = withoutPassword('https://tools.internal/mcp?api_key=sk-live-123&region=eu');
    assert.ok(!api.includes('sk-live-123'), api);
    assert.match(api, /region=eu/);
    assert.equal(withoutPassword('https://tools.internal/mcp'), 'https://tools.internal/mcp');
    assert.equal(withoutPassword('./data/portcullis.db'), './data/portcullis.db');
  });
});
