import { randomUUID } from 'node:crypto';
import type express from 'express';
import { actorOf, type Principal } from '../../http/auth.ts';
import { asCurrency } from '../../money/currency.ts';
import { formatAmount } from '../../money/minor.ts';
import type { PlayerView } from '../../wallet/backoffice.ts';
import { cashierAmount, cashierRequest } from '../../wallet/backoffice-wire.ts';
import { PlayerCode } from '../../wallet/types.ts';
import { html, type SafeHtml } from '../html.ts';
import { CONSOLE_PATH, csrfField, may, need, page } from '../layout.ts';
import type { ConsoleDeps } from '../router.ts';

const P = `${CONSOLE_PATH}/players`;
const PAGE = 25;
const money = (v: bigint, currency: string) => formatAmount(v, asCurrency(currency));
const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19);
const field = (body: unknown, name: string) => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.trim() : '';
};
const idParam = (v: unknown) => (typeof v === 'string' && /^\d{1,18}$/.test(v) ? BigInt(v) : undefined);
const KINDS = { deposit: 'Deposit', withdrawal: 'Withdrawal' } as const;
const kindOf = (v: string) => (v === 'deposit' || v === 'withdrawal' ? v : undefined);

/**
 * Players: search by code; a player's balances, wallet movements and rounds (paged); block and
 * unblock (operator); the cashier (admin), in two steps: the form, then a confirmation page that
 * shows the balance before and after, then the change, idempotent on the reference the form drew.
 * Every change goes through OperatorActions (audited as from /v1 and the CLI).
 */
export function playersPage(router: express.Router, deps: ConsoleDeps): void {
  const { actions, backOffice } = deps;

  router.get('/players', async (req, res) => {
    const p = res.locals.principal as Principal;
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 64) : '';
    const found = await backOffice.search(q, 100);
    const rows = found.map(
      (f) => html`<tr data-testid="player-row"><td><a href="${P}/${encodeURIComponent(f.code)}">${f.code}</a></td><td><span class="tag ${f.status === 'active' ? 'ok' : 'failed'}">${f.status}</span></td></tr>`,
    );
    res.type('html').send(
      page(
        'Players',
        '/players',
        p,
        html`<form class="filters" method="get" action="${P}"><label>Code starts with <input name="q" value="${q}" autofocus></label><button type="submit">Search</button></form>
<table data-testid="players"><thead><tr><th>Player</th><th>Status</th></tr></thead><tbody>${rows.length ? rows : html`<tr><td colspan="2" class="muted">No player's code starts with that.</td></tr>`}</tbody></table>
${found.length === 100 ? html`<p class="muted">The first 100; type more of the code to narrow.</p>` : ''}`,
      ),
    );
  });

  router.get('/players/:code', async (req: express.Request<{ code: string }>, res) => {
    const p = res.locals.principal as Principal;
    const code = req.params.code;
    const player = await actions.player(code);
    if (!player.ok) return res.status(404).type('html').send(page('Player', '/players', p, html`<p class="notice warn" role="alert">No player ${code}.</p>`));
    const movesBefore = idParam(req.query.movesBefore);
    const roundsBefore = idParam(req.query.roundsBefore);
    const [moves, rounds] = await Promise.all([
      backOffice.history(PlayerCode(code), { limit: PAGE, ...(movesBefore === undefined ? {} : { before: movesBefore }) }),
      backOffice.rounds(PlayerCode(code), { limit: PAGE, ...(roundsBefore === undefined ? {} : { before: roundsBefore }) }),
    ]);
    const base = `${P}/${encodeURIComponent(code)}`;
    const moveRows = moves.ok
      ? moves.value.map(
          (m) => html`<tr data-testid="move-row"><td>${m.transferId}</td><td>${when(m.createdAt)}</td><td>${m.kind}</td><td class="num">${money(m.delta, m.currency)} ${m.currency}</td><td>${m.provider ?? ''}</td><td>${m.externalId ? html`<a href="${CONSOLE_PATH}/webhooks?provider=${encodeURIComponent(m.provider ?? '')}&transactionId=${encodeURIComponent(m.externalId)}">${m.externalId}</a>` : ''}</td><td>${m.reference ?? ''}</td></tr>`,
        )
      : [];
    const roundRows = rounds.ok
      ? rounds.value.map((r) => {
          const state = r.settledAt ? 'settled' : r.lines > 0 && r.cancelled === r.lines ? 'cancelled' : r.open > 0 ? 'open' : r.lines === 0 ? 'no stake' : 'closed';
          const cur = r.currency ?? '';
          return html`<tr data-testid="round-row"><td>${r.provider}</td><td>${r.externalId}</td><td>${when(r.createdAt)}</td><td><span class="tag ${state === 'open' ? 'warn' : state === 'settled' ? 'ok' : ''}">${state}</span></td><td class="num">${r.lines}</td><td class="num">${cur ? money(r.staked, cur) : r.staked}</td><td class="num">${cur ? money(r.paid, cur) : r.paid}</td><td>${cur}</td></tr>`;
        })
      : [];
    const lastMove = moves.ok && moves.value.length === PAGE ? moves.value.at(-1)!.transferId : undefined;
    const lastRound = rounds.ok && rounds.value.length === PAGE ? rounds.value.at(-1)!.roundId : undefined;
    res.type('html').send(
      page(
        `Player ${player.value.code}`,
        '/players',
        p,
        html`${statusBlock(player.value, p)}
<h2>Balances</h2>
<table data-testid="balances" class="facts">${player.value.wallets.map((w) => html`<tr><th>${w.currency}</th><td class="num" data-testid="balance-${w.currency}">${money(w.balance, w.currency)}</td></tr>`)}</table>
${may(p, 'admin') ? cashierForm(player.value, p) : ''}
<h2>Wallet movements</h2>
<table data-testid="moves"><thead><tr><th>Transfer</th><th>When (UTC)</th><th>Kind</th><th class="num">Change</th><th>Provider</th><th>Transaction</th><th>Reference</th></tr></thead>
<tbody>${moveRows.length ? moveRows : html`<tr><td colspan="7" class="muted">None${movesBefore ? ' older' : ''}.</td></tr>`}</tbody></table>
<p>${lastMove === undefined ? '' : html`<a data-testid="moves-next" href="${base}?movesBefore=${lastMove}${roundsBefore ? `&roundsBefore=${roundsBefore}` : ''}">Older movements</a>`}</p>
<h2>Rounds</h2>
<table data-testid="rounds"><thead><tr><th>Provider</th><th>Round</th><th>Started (UTC)</th><th>State</th><th class="num">Lines</th><th class="num">Staked</th><th class="num">Paid</th><th></th></tr></thead>
<tbody>${roundRows.length ? roundRows : html`<tr><td colspan="8" class="muted">None${roundsBefore ? ' older' : ''}.</td></tr>`}</tbody></table>
<p>${lastRound === undefined ? '' : html`<a data-testid="rounds-next" href="${base}?roundsBefore=${lastRound}${movesBefore ? `&movesBefore=${movesBefore}` : ''}">Older rounds</a>`}</p>`,
      ),
    );
  });

  for (const [action, status] of [['block', 'blocked'], ['unblock', 'active']] as const) {
    router.post(`/players/:code/${action}`, need('operator'), async (req: express.Request<{ code: string }>, res) => {
      const p = res.locals.principal as Principal;
      const note = field(req.body, 'note').slice(0, 500);
      const result = await actions.setStatus(actorOf(req, res), req.params.code, status, note || undefined);
      if (!result.ok) return res.status(404).type('html').send(page('Player', '/players', p, html`<p class="notice bad" role="alert">${result.reason.replaceAll('_', ' ')}</p>`));
      res.redirect(303, `${P}/${encodeURIComponent(req.params.code)}?done=${action}`);
    });
  }

  // The cashier, step one: check the request and show what it will do. Nothing changes yet.
  router.post('/players/:code/cashier/confirm', need('admin'), async (req: express.Request<{ code: string }>, res) => {
    const p = res.locals.principal as Principal;
    const kind = kindOf(field(req.body, 'kind'));
    const request = cashierRequest.safeParse({ currency: field(req.body, 'currency'), amount: field(req.body, 'amount'), reference: field(req.body, 'reference') });
    const player = await actions.player(req.params.code);
    if (!player.ok) return res.status(404).type('html').send(page('Cashier', '/players', p, html`<p class="notice bad" role="alert">No player ${req.params.code}.</p>`));
    const back = html`<p><a href="${P}/${encodeURIComponent(player.value.code)}">Back to ${player.value.code}</a></p>`;
    if (!kind || !request.success) {
      const why = !kind ? 'Choose a deposit or a withdrawal.' : (request.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return res.status(400).type('html').send(page('Cashier', '/players', p, html`<p class="notice bad" role="alert" data-testid="cashier-error">${why}</p>${back}`));
    }
    const { currency, amount, reference } = request.data;
    const minor = cashierAmount(amount, currency);
    if (!minor.ok) return res.status(400).type('html').send(page('Cashier', '/players', p, html`<p class="notice bad" role="alert" data-testid="cashier-error">${minor.reason}</p>${back}`));
    const wallet = player.value.wallets.find((w) => w.currency === currency);
    if (!wallet) return res.status(400).type('html').send(page('Cashier', '/players', p, html`<p class="notice bad" role="alert" data-testid="cashier-error">${player.value.code} has no ${currency} wallet.</p>${back}`));
    const after = kind === 'deposit' ? wallet.balance + minor.value : wallet.balance - minor.value;
    res.type('html').send(
      page(
        `Confirm: ${KINDS[kind].toLowerCase()}`,
        '/players',
        p,
        html`<div class="card" data-testid="cashier-confirm">
<p><strong>${KINDS[kind]} of ${money(minor.value, currency)} ${currency}</strong> ${kind === 'deposit' ? 'to' : 'from'} <strong>${player.value.code}</strong>, reference <code>${reference}</code>.</p>
<p>Balance now ${money(wallet.balance, currency)} ${currency}; after: <strong data-testid="cashier-after">${money(after, currency)} ${currency}</strong>${after < 0n ? html` <span class="tag failed">not enough money: it will be refused</span>` : ''}.</p>
<form method="post" action="${P}/${encodeURIComponent(player.value.code)}/cashier">${csrfField(p)}
<input type="hidden" name="kind" value="${kind}"><input type="hidden" name="currency" value="${currency}"><input type="hidden" name="amount" value="${amount}"><input type="hidden" name="reference" value="${reference}">
<button type="submit" class="${kind === 'withdrawal' ? 'danger' : ''}" data-testid="cashier-do">Confirm the ${kind}</button>
<a href="${P}/${encodeURIComponent(player.value.code)}">Cancel</a>
</form></div>`,
      ),
    );
  });

  // Step two: the change itself. A repeat of the reference (a double click, a reload) changes nothing.
  router.post('/players/:code/cashier', need('admin'), async (req: express.Request<{ code: string }>, res) => {
    const p = res.locals.principal as Principal;
    const kind = kindOf(field(req.body, 'kind'));
    // Checked again as step one and /v1 check it: this form can be posted without step one's page.
    const request = cashierRequest.safeParse({ currency: field(req.body, 'currency'), amount: field(req.body, 'amount'), reference: field(req.body, 'reference') });
    if (!kind || !request.success) {
      const why = !kind ? 'Choose a deposit or a withdrawal.' : (request.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return res.status(400).type('html').send(page('Cashier', '/players', p, html`<p class="notice bad" role="alert" data-testid="cashier-result">Not a cashier request: ${why}</p>`));
    }
    const { currency, amount, reference } = request.data;
    const result = await actions.cashier(actorOf(req, res), kind, req.params.code, currency, amount, reference);
    const back = html`<p><a href="${P}/${encodeURIComponent(req.params.code)}">Back to ${req.params.code}</a></p>`;
    if (!result.ok) {
      return res.status(result.reason === 'unknown_player' ? 404 : 422).type('html').send(page('Cashier', '/players', p, html`<p class="notice bad" role="alert" data-testid="cashier-result">Refused: ${result.message ?? result.reason.replaceAll('_', ' ')}.</p>${back}`));
    }
    res.type('html').send(
      page(
        KINDS[kind],
        '/players',
        p,
        html`<p class="notice ok" role="status" data-testid="cashier-result">${result.repeat ? 'Already done (same reference): nothing changed. ' : 'Done. '}${req.params.code} now holds ${money(result.balance, currency)} ${currency}.</p>${back}`,
      ),
    );
  });
}

function statusBlock(player: PlayerView, p: Principal): SafeHtml {
  const blocked = player.status === 'blocked';
  const tag = html`<p>Status: <span class="tag ${blocked ? 'failed' : 'ok'}" data-testid="player-status">${player.status}</span></p>`;
  if (!may(p, 'operator')) return tag;
  return html`${tag}<form class="filters" method="post" action="${P}/${encodeURIComponent(player.code)}/${blocked ? 'unblock' : 'block'}">${csrfField(p)}
<label>Why (kept in the audit trail) <input name="note" maxlength="500" size="40"></label>
<button type="submit" class="${blocked ? 'secondary' : 'danger'}" data-testid="${blocked ? 'unblock' : 'block'}">${blocked ? 'Unblock' : 'Block'} ${player.code}</button></form>`;
}

function cashierForm(player: PlayerView, p: Principal): SafeHtml {
  return html`<h2>Cashier</h2>
<form class="filters" method="post" action="${P}/${encodeURIComponent(player.code)}/cashier/confirm" data-testid="cashier-form">${csrfField(p)}
<label>Kind <select name="kind"><option value="deposit">deposit</option><option value="withdrawal">withdrawal</option></select></label>
<label>Currency <select name="currency">${player.wallets.map((w) => html`<option>${w.currency}</option>`)}</select></label>
<label>Amount <input name="amount" inputmode="decimal" required pattern="\\d+(\\.\\d+)?" placeholder="10.00"></label>
<label>Reference <input name="reference" value="console-${randomUUID()}" required maxlength="200"></label>
<button type="submit">Review</button>
</form>`;
}
