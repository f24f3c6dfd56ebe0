#!/usr/bin/env node
// Builds the auv_native Node-API addon (native/*.cc -> native/build/auv_native.node) with g++
// against the Node headers already on the machine (Debian's nodejs ships /usr/include/node): no
// node-gyp, no download. Run by `npm ci` / `npm install` (the `prepare` script) and by
// `npm run build:native`. It never fails the install: when the compiler or the headers are
// missing, or the compile fails, it prints one line and the project uses the wasm kernels.
// Environment: CXX (compiler, default g++), AUV_NATIVE=0 (skip the build), AUV_NATIVE_MARCH
// (default native: the addon is built on, and for, the machine that runs it).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(root, 'native');
const outDir = path.join(srcDir, 'build');
const out = path.join(outDir, 'auv_native.node');
const stampFile = path.join(outDir, 'stamp.txt');

function notice(msg) {
  console.log(`auv-native: ${msg}; using the wasm kernels (see README, "Native kernels")`);
}

function headerDir() {
  const candidates = [
    process.env.AUV_NODE_HEADERS,
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((d) => existsSync(path.join(d, 'node_api.h')));
}

function main() {
  if (process.env.AUV_NATIVE === '0') {
    console.log('auv-native: AUV_NATIVE=0, not built; using the wasm kernels');
    return;
  }
  const cxx = process.env.CXX || 'g++';
  const probe = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return notice(`no C++ compiler ('${cxx}')`);
  const inc = headerDir();
  if (!inc) return notice(`Node's headers (node_api.h) not found for ${process.execPath}`);
  const sources = readdirSync(srcDir).filter((f) => f.endsWith('.cc')).sort().map((f) => path.join(srcDir, f));
  const march = process.env.AUV_NATIVE_MARCH || 'native';
  // -fno-math-errno: sqrt without an errno branch; -fno-trapping-math: floor (GroupNorm's exp) without
  // keeping the inexact flag; both let loops over them vectorise and change no value.
  const base = ['-O3', `-march=${march}`, '-fno-math-errno', '-fno-trapping-math', '-std=gnu++17', '-shared', '-fPIC', '-fvisibility=hidden', `-I${inc}`,
    '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=auv_native', '-Wall', '-Wno-unknown-pragmas'];

  // Rebuild only when the sources, flags, compiler or Node version changed.
  const h = createHash('sha256');
  for (const f of sources) h.update(f).update(readFileSync(f));
  for (const f of readdirSync(srcDir).filter((n) => n.endsWith('.h')).sort()) h.update(readFileSync(path.join(srcDir, f)));
  h.update(base.join(' ')).update(probe.stdout).update(process.version);
  const stamp = h.digest('hex');
  if (existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp) return;

  mkdirSync(outDir, { recursive: true });
  const tmp = path.join(outDir, `auv_native.${process.pid}.tmp.node`);
  // With OpenMP (two threads); without it if libgomp is missing (then single-threaded).
  let r = spawnSync(cxx, [...base, '-fopenmp', ...sources, '-o', tmp], { encoding: 'utf8' });
  let threads = 'openmp';
  if (r.status !== 0) {
    r = spawnSync(cxx, [...base, ...sources, '-o', tmp], { encoding: 'utf8' });
    threads = 'single-threaded (no OpenMP)';
  }
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    const first = `${r.stderr ?? ''}`.split('\n').find((l) => /error/.test(l)) ?? `exit ${r.status}`;
    return notice(`compile failed (${first.trim().slice(0, 160)})`);
  }
  // Load it once here so that a broken binary is never left in place.
  const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(tmp)}).buildInfo()`], { encoding: 'utf8' });
  if (check.status !== 0) {
    rmSync(tmp, { force: true });
    return notice(`the built addon does not load (${`${check.stderr}`.trim().split('\n').pop().slice(0, 160)})`);
  }
  renameSync(tmp, out);
  writeFileSync(stampFile, stamp + '\n');
  console.log(`auv-native: built native/build/auv_native.node (${threads}, -march=${march})`);
}

try {
  main();
} catch (e) {
  notice(`build step error (${e instanceof Error ? e.message : String(e)})`);
}
