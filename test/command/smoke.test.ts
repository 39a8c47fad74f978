import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  await gw.fund('alice', { USD: '100.00' });
});
afterAll(() => gw.close());

describe('command dialect smoke', () => {
  it('authenticates a funded player', async () => {
    const res = await gw.callback('scorpio-play', { command: 'authenticate', data: { account: 'alice' }, timestamp: '1600000001', check: '21' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"result":0,"status":"OK","data":{"account":"alice","balance":100}}');
    expect(await gw.reconcile()).toEqual([]);
  });
});
