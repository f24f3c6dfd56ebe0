// One temporary root per test run: every test's mkdtemp (and every child process the tests start:
// CLI runs, redis-server, chromium, onnxruntime's logs) lands under it through TMPDIR, and it is
// removed when the run ends, so `npm test` leaves nothing behind in the machine's /tmp.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(path.join(tmpdir(), 'auv-test-run-'));
  // Like /tmp itself (world-writable, sticky): a test runs the CLI as an unprivileged user.
  chmodSync(root, 0o1777);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (process.env.AUV_KEEP_TEST_TMP !== '1') rmSync(root, { recursive: true, force: true });
  };
}
