import type express from 'express';
import { actorOf, type Principal } from '../../http/auth.ts';
import type { Role } from '../../ledger/schema.ts';
import { ROLES, type OperatorView, type Result } from '../../operators/operators.ts';
import { PASSWORD_MIN } from '../../operators/passwords.ts';
import { html, type SafeHtml } from '../html.ts';
import { CONSOLE_PATH, csrfField, need, page } from '../layout.ts';
import type { ConsoleDeps } from '../router.ts';

const field = (body: unknown, name: string) => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

const isRole = (v: string): v is Role => (ROLES as readonly string[]).includes(v);

/**
 * Operator accounts, for admins: add, disable and enable, change a role, set a password. Every change
 * goes through Operators, which refuses what must not happen (the last admin disabled or demoted, a
 * weak password) and writes the audit trail. Anyone signed in may set their own password.
 */
export function operatorsPage(router: express.Router, deps: ConsoleDeps): void {
  const { operators } = deps;

  const render = async (p: Principal, notice?: SafeHtml) => {
    const list = await operators.list();
    const rows = list.map(
      (o: OperatorView) => html`<tr data-testid="operator-${o.name}">
<td><strong>${o.name}</strong></td>
<td><form class="inline" method="post" action="${CONSOLE_PATH}/operators/${encodeURIComponent(o.name)}/role">${csrfField(p)}
<select name="role" aria-label="Role of ${o.name}">${ROLES.map((r) => html`<option ${r === o.role ? html`selected` : ''}>${r}</option>`)}</select>
<button class="secondary" type="submit">Set role</button></form></td>
<td><span class="tag ${o.status === 'active' ? 'ok' : 'failed'}">${o.status}</span></td>
<td>${o.createdAt.toISOString().slice(0, 16).replace('T', ' ')}</td>
<td><form class="inline" method="post" action="${CONSOLE_PATH}/operators/${encodeURIComponent(o.name)}/${o.status === 'active' ? 'disable' : 'enable'}">${csrfField(p)}
<button class="${o.status === 'active' ? 'danger' : 'secondary'}" type="submit">${o.status === 'active' ? 'Disable' : 'Enable'}</button></form>
<form class="inline" method="post" action="${CONSOLE_PATH}/operators/${encodeURIComponent(o.name)}/password">${csrfField(p)}
<input type="password" name="password" autocomplete="new-password" minlength="${PASSWORD_MIN}" placeholder="new password" aria-label="New password for ${o.name}" required>
<button class="secondary" type="submit">Set password</button></form></td>
</tr>`,
    );
    return page(
      'Operators',
      '/operators',
      p,
      html`${notice ?? ''}
<table data-testid="operators"><thead><tr><th>Name</th><th>Role</th><th>Status</th><th>Created (UTC)</th><th></th></tr></thead><tbody>${rows}</tbody></table>
<h2>Add an operator</h2>
<form class="filters" method="post" action="${CONSOLE_PATH}/operators">${csrfField(p)}
<label>Name <input name="name" required pattern="[a-z0-9][a-z0-9._@\\-]{1,63}" autocomplete="off"></label>
<label>Role <select name="role">${ROLES.map((r) => html`<option>${r}</option>`)}</select></label>
<label>Password <input type="password" name="password" autocomplete="new-password" minlength="${PASSWORD_MIN}" required></label>
<button type="submit">Add</button>
</form>
<p class="muted">Viewers read everything but secrets; operators also replay, block and unblock; admins also move money at the cashier, import vendors' exports (taken on the file's word) and manage operators. Disabling someone ends their sessions.</p>`,
    );
  };

  const done = async (res: express.Response, p: Principal, result: Result<OperatorView>, what: string) => {
    const notice = result.ok ? html`<p class="notice ok" role="status" data-testid="notice">${what}: ${result.value.name} (${result.value.role}, ${result.value.status}).</p>` : html`<p class="notice bad" role="alert" data-testid="notice">${result.message}</p>`;
    res.status(result.ok ? 200 : 400).type('html').send(await render(p, notice));
  };

  router.get('/operators', need('admin'), async (_req, res) => {
    res.type('html').send(await render(res.locals.principal as Principal));
  });

  router.post('/operators', need('admin'), async (req, res) => {
    const p = res.locals.principal as Principal;
    const role = field(req.body, 'role');
    if (!isRole(role)) return res.status(400).type('html').send(await render(p, html`<p class="notice bad" role="alert">Unknown role.</p>`));
    await done(res, p, await operators.add(actorOf(req, res), field(req.body, 'name').trim().toLowerCase(), role, field(req.body, 'password')), 'Added');
  });

  for (const [action, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    router.post(`/operators/:name/${action}`, need('admin'), async (req: express.Request<{ name: string }>, res) => {
      await done(res, res.locals.principal as Principal, await operators.setStatus(actorOf(req, res), req.params.name, status), action === 'disable' ? 'Disabled' : 'Enabled');
    });
  }

  router.post('/operators/:name/role', need('admin'), async (req: express.Request<{ name: string }>, res) => {
    const p = res.locals.principal as Principal;
    const role = field(req.body, 'role');
    if (!isRole(role)) return res.status(400).type('html').send(await render(p, html`<p class="notice bad" role="alert">Unknown role.</p>`));
    await done(res, p, await operators.setRole(actorOf(req, res), req.params.name, role), 'Role set');
  });

  router.post('/operators/:name/password', need('admin'), async (req: express.Request<{ name: string }>, res) => {
    await done(res, res.locals.principal as Principal, await operators.passwd(actorOf(req, res), req.params.name, field(req.body, 'password')), 'Password set');
  });

  // One's own password, whatever one's role.
  router.get('/account', (_req, res) => {
    const p = res.locals.principal as Principal;
    res.type('html').send(account(p));
  });
  router.post('/account', async (req, res) => {
    const p = res.locals.principal as Principal;
    const result = await operators.passwd(actorOf(req, res), p.name, field(req.body, 'password'));
    // A new password ends every session of the account, this one too: sign in with it.
    if (result.ok) return res.redirect(303, `${CONSOLE_PATH}/sign-in?problem=password`);
    res.status(400).type('html').send(account(p, html`<p class="notice bad" role="alert" data-testid="notice">${result.message}</p>`));
  });
}

function account(p: Principal, notice?: SafeHtml): string {
  return page(
    'Your account',
    '/account',
    p,
    html`${notice ?? ''}<p>Signed in as <strong>${p.name}</strong> (${p.role}).</p>
<form class="filters" method="post" action="${CONSOLE_PATH}/account">${csrfField(p)}
<label>New password <input type="password" name="password" autocomplete="new-password" minlength="${PASSWORD_MIN}" required></label>
<button type="submit">Change my password</button>
</form>`,
  );
}
