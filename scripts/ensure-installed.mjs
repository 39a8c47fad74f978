// Runs before every npm script (the `pre*` entries of package.json), on whatever Node the machine has
// (plain JavaScript, no dependency): installs the project's dependencies when they are missing or older
// than package.json / package-lock.json, and says so, so that any documented command works as the first
// one after a clone. The project's own Node (24, the `node` package) arrives with them.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = `${root}node_modules/.package-lock.json`;
const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);
const installed = mtime(stamp);
const stale = installed === 0 || mtime(`${root}package.json`) > installed || mtime(`${root}package-lock.json`) > installed;

if (stale) {
  process.stderr.write(
    installed === 0
      ? 'croupier: installing dependencies first (npm install; about half a minute on a fresh clone)...\n'
      : 'croupier: package.json changed since the last install: updating dependencies (npm install)...\n',
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // npm's output goes to stderr: a command's stdout stays its answer (TOKEN=$(npm run -s cli -- token ...)).
  const run = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: [0, 2, 2] });
  if (run.status !== 0) {
    process.stderr.write('croupier: npm install failed (above); the command cannot run without its dependencies.\n');
    process.exit(run.status ?? 1);
  }
  process.stderr.write('croupier: dependencies installed.\n');
}
