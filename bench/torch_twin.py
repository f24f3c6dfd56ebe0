#!/usr/bin/python3
"""PyTorch twin of the canonical bench workloads (bench/workloads/*.ts), the speed anchor.

Run with Debian's torch:  /usr/bin/python3 bench/torch_twin.py [--only a,b] [--runs N]
[--threads T] [--json FILE].  Install: apt-get install -y python3-torch libopenblas0-pthread.
Each workload mirrors its TypeScript definition exactly (shapes, layouts, losses, optimiser);
random data differ (numpy vs the project's Rng) but not the work done. Never a test dependency.
"""
import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

N_USERS, N_ITEMS, N_INTER, SEED = 10_000, 20_000, 200_000, 1234


def graph():
    rng = np.random.default_rng(SEED)
    return (torch.from_numpy(rng.integers(0, N_USERS, N_INTER)).long(),
            torch.from_numpy(rng.integers(0, N_ITEMS, N_INTER)).long())


# conv-block --------------------------------------------------------------------------------
class ConvBlock:
    flops = 3 * 2 * (2 * 32 * 32 * 32 * 64 * 64 * 9)
    runs = 5

    def __init__(self):
        g = torch.Generator().manual_seed(1)
        std = math.sqrt(2 / (9 * 64))
        # NHWC in the TS version; PyTorch's native NCHW is the fair comparison.
        self.x = torch.randn(32, 64, 32, 32, generator=g)
        self.p = [torch.randn(64, 64, 3, 3, generator=g) * std, torch.zeros(64), torch.ones(64), torch.zeros(64),
                  torch.randn(64, 64, 3, 3, generator=g) * std, torch.zeros(64), torch.ones(64), torch.zeros(64)]

    def run(self):
        x = self.x.clone().requires_grad_(True)
        p = [t.clone().requires_grad_(True) for t in self.p]
        h = F.silu(F.group_norm(F.conv2d(x, p[0], p[1], padding=1), 8, p[2], p[3], eps=1e-5))
        h = F.silu(F.group_norm(F.conv2d(h, p[4], p[5], padding=1), 8, p[6], p[7], eps=1e-5))
        loss = (x + h).pow(2).mean()
        torch.autograd.grad(loss, [x] + p)


# mlp-adam ----------------------------------------------------------------------------------
class MlpAdam:
    B, D, K = 256, 1024, 10
    flops = 3 * 2 * 256 * (1024 * 1024 * 2 + 1024 * 10)
    runs = 7

    def __init__(self):
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(self.B, self.D, generator=g)
        self.y = torch.randint(0, self.K, (self.B,), generator=g)
        self.model = torch.nn.Sequential(torch.nn.Linear(1024, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024),
                                         torch.nn.ReLU(), torch.nn.Linear(1024, 10))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)

    def run(self):
        self.opt.zero_grad()
        loss = F.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()


def batches(users, items, batch, gen):
    perm = torch.randperm(N_INTER, generator=gen)
    for s in range(0, N_INTER, batch):
        e = perm[s:s + batch]
        yield users[e], items[e], torch.randint(0, N_ITEMS, (len(e),), generator=gen)


# vbpr-epoch --------------------------------------------------------------------------------
class VbprEpoch:
    runs = 3
    flops = None

    def __init__(self):
        self.users, self.items = graph()
        g = torch.Generator().manual_seed(1)
        self.gen = torch.Generator().manual_seed(2)
        self.feats = torch.rand(N_ITEMS, 512, generator=g)
        p = lambda *s: (torch.randn(*s, generator=g) * 0.01).requires_grad_(True)
        self.bi = torch.zeros(N_ITEMS, requires_grad=True)
        self.gu, self.gi, self.tu, self.E = p(N_USERS, 64), p(N_ITEMS, 64), p(N_USERS, 64), p(512, 64)
        self.bp = torch.zeros(512, requires_grad=True)
        self.opt = torch.optim.Adam([self.bi, self.gu, self.gi, self.tu, self.E, self.bp], lr=1e-3)

    def step(self, u, pos, neg):
        gu, tu = self.gu[u], self.tu[u]

        def score(it):
            f = self.feats[it]
            return self.bi[it] + (gu * self.gi[it]).sum(1) + (tu * (f @ self.E)).sum(1) + f @ self.bp

        loss = F.softplus(-(score(pos) - score(neg))).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()

    def epoch(self, max_steps=None):
        for k, (u, p, n) in enumerate(batches(self.users, self.items, 1024, self.gen)):
            if max_steps is not None and k >= max_steps:
                break
            self.step(u, p, n)

    def warmup(self):
        self.epoch(5)

    def run(self):
        self.epoch()


# lightgcn-epoch ----------------------------------------------------------------------------
class LightgcnEpoch:
    runs = 3
    flops = None

    def __init__(self):
        users, items = graph()
        self.users, self.items = users, items
        n = N_USERS + N_ITEMS
        r = torch.cat([users, items + N_USERS])
        c = torch.cat([items + N_USERS, users])
        deg = torch.zeros(n).index_add_(0, r, torch.ones(len(r)))
        w = (deg[r] * deg[c]).rsqrt()
        self.adj = torch.sparse_coo_tensor(torch.stack([r, c]), w, (n, n)).coalesce().to_sparse_csr()
        g = torch.Generator().manual_seed(1)
        self.gen = torch.Generator().manual_seed(2)
        self.emb = (torch.randn(n, 64, generator=g) * 0.1).requires_grad_(True)
        self.opt = torch.optim.Adam([self.emb], lr=1e-3)

    def step(self, u, pos, neg):
        e, acc = self.emb, self.emb
        for _ in range(3):
            e = self.adj @ e
            acc = acc + e
        fin = acc / 4
        eu = fin[u]
        sp = (eu * fin[pos + N_USERS]).sum(1)
        sn = (eu * fin[neg + N_USERS]).sum(1)
        loss = F.softplus(sn - sp).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()

    def epoch(self, max_steps=None):
        for k, (u, p, n) in enumerate(batches(self.users, self.items, 2048, self.gen)):
            if max_steps is not None and k >= max_steps:
                break
            self.step(u, p, n)

    def warmup(self):
        self.epoch(3)

    def run(self):
        self.epoch()


# full-rank ---------------------------------------------------------------------------------
class FullRank:
    runs = 3
    flops = 2 * 20_000 * 512 * 65 + 2 * 10_000 * 20_000 * 128

    def __init__(self):
        users, items = graph()
        g = torch.Generator().manual_seed(1)
        r = lambda *s, std=0.1: torch.randn(*s, generator=g) * std
        self.bi, self.gu, self.gi, self.tu = r(N_ITEMS), r(N_USERS, 64), r(N_ITEMS, 64), r(N_USERS, 64)
        self.E, self.bp = r(512, 64, std=0.05), r(512, std=0.05)
        self.feats = torch.rand(N_ITEMS, 512, generator=g)
        self.seen_u, self.seen_i = users, items

    @torch.no_grad()
    def run(self):
        items_t = torch.cat([self.gi, self.feats @ self.E], 1).t().contiguous()
        bias = self.bi + self.feats @ self.bp
        users = torch.cat([self.gu, self.tu], 1)
        out = torch.empty(N_USERS, 20, dtype=torch.long)
        for s in range(0, N_USERS, 1000):
            sc = users[s:s + 1000] @ items_t + bias
            m = (self.seen_u >= s) & (self.seen_u < s + 1000)
            sc[self.seen_u[m] - s, self.seen_i[m]] = -math.inf
            out[s:s + 1000] = sc.topk(20, dim=1).indices
        return out


# insa-step ---------------------------------------------------------------------------------
class InsaStep:
    """One INSA step (bench/workloads/insa-step.ts): 16 images 64x64 through the default victim
    ResNet (avg-pool to 32, stride-2 stem 3->16, GN(4)+ReLU, stages [16, 32, 64] x 1 block, 1x1
    shortcuts, mean pool, linear 64->512), VBPR scores for 2000 users (whitening 512->64, K=K'=32),
    loss -sum_t mean_u s(u, t); gradient for the pixels only, one Adam step, L-inf projection."""
    B, USERS, ITEMS, D, K = 16, 2000, 3000, 64, 32
    flops = 212537344  # as the TS workload counts it (convs fwd + input grad, matMuls fwd + input grad)
    runs = 20

    def __init__(self):
        g = torch.Generator().manual_seed(1)
        r = lambda *s, std=0.1: torch.randn(*s, generator=g) * std
        conv = lambda ci, co, k: r(co, ci, k, k, std=math.sqrt(2 / (k * k * ci)))
        gn = lambda c: (torch.ones(c), torch.zeros(c))
        self.stem = conv(3, 16, 3), gn(16)
        self.blocks = []
        cin = 16
        for s_, w in enumerate([16, 32, 64]):
            stride = 2 if s_ > 0 else 1
            sc = conv(cin, w, 1) if (cin != w or s_ > 0) else None
            self.blocks.append((stride, conv(cin, w, 3), gn(w), conv(w, w, 3), gn(w), sc))
            cin = w
        self.proj_w, self.proj_b = r(64, 512), torch.zeros(512)
        self.mean, self.P = r(1, 512), r(512, self.D)
        self.bi, self.gi = r(self.ITEMS), r(self.ITEMS, self.K)
        self.bu, self.gu, self.tu, self.a = r(self.USERS), r(self.USERS, self.K), r(self.USERS, self.K), r(1)
        self.E, self.bp = r(self.D, self.K), r(self.D)
        self.items = torch.arange(self.B)
        self.x0 = torch.rand(self.B, 3, 64, 64, generator=g)

    def encode(self, x):
        x = (F.avg_pool2d(x, 2) - 0.5) / 0.25
        w, (gg, gb) = self.stem
        x = F.relu(F.group_norm(F.conv2d(x, w, stride=2, padding=1), 4, gg, gb, eps=1e-5))
        for stride, c1, n1, c2, n2, sc in self.blocks:
            y = F.relu(F.group_norm(F.conv2d(x, c1, stride=stride, padding=1), 4, n1[0], n1[1], eps=1e-5))
            y = F.group_norm(F.conv2d(y, c2, padding=1), 4, n2[0], n2[1], eps=1e-5)
            x = F.relu(y + (F.conv2d(x, sc, stride=stride) if sc is not None else x))
        return x.mean((2, 3)) @ self.proj_w + self.proj_b

    def run(self):
        eps = 32 / 255
        x = self.x0.clone().requires_grad_(True)
        fn = (self.encode(x) - self.mean) @ self.P
        it = self.items
        s = torch.cat([self.gu, self.tu], 1) @ torch.cat([self.gi[it], fn @ self.E], 1).T
        s = s + (self.bi[it] + fn @ self.bp).reshape(1, -1) + (self.bu + self.a).reshape(-1, 1)
        loss = -s.mean(0).sum()
        (grad,) = torch.autograd.grad(loss, [x])
        with torch.no_grad():
            m, v = 0.1 * grad, 0.001 * grad * grad
            upd = (eps / 4) * (m / 0.1) / ((v / 0.001).sqrt() + 1e-8)
            out = torch.minimum(torch.maximum(x - upd, self.x0 - eps), self.x0 + eps).clamp(0, 1)
        return out


WORKLOADS = {'conv-block': ConvBlock, 'mlp-adam': MlpAdam, 'vbpr-epoch': VbprEpoch,
             'lightgcn-epoch': LightgcnEpoch, 'full-rank': FullRank, 'insa-step': InsaStep}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', default=','.join(WORKLOADS))
    ap.add_argument('--runs', type=int)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--json')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    res = []
    for name in [n for n in a.only.split(',') if n]:
        if name not in WORKLOADS:
            print(f'torch twin: no workload {name}, skipped', file=sys.stderr)
            continue
        w = WORKLOADS[name]()
        (getattr(w, 'warmup', None) or w.run)()
        runs = a.runs or w.runs
        times = []
        for r in range(runs):
            t0 = time.perf_counter()
            w.run()
            times.append((time.perf_counter() - t0) * 1000)
            print(f'  torch {name} run {r + 1}/{runs}: {times[-1]:.1f} ms', file=sys.stderr)
        med = statistics.median(times)
        res.append({'name': name, 'medianMs': round(med, 2), 'runs': runs,
                    'gflops': round(w.flops / (med / 1000) / 1e9, 2) if w.flops else None,
                    'peakRssMb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                    'timesMs': [round(t, 2) for t in times]})
        del w
    machine = {'cpu': platform.processor() or platform.machine(), 'cores': os.cpu_count(), 'torch': torch.__version__,
               'threads': torch.get_num_threads(), 'python': platform.python_version()}
    for r in res:
        print(f"{r['name']:<18} {r['medianMs']:>10.1f} {r['runs']:>5} {r['gflops'] if r['gflops'] else '-':>8}")
    if a.json:
        tmp = a.json + '.tmp'
        with open(tmp, 'w') as f:
            json.dump({'machine': machine, 'workloads': res}, f, indent=2)
        os.replace(tmp, a.json)


if __name__ == '__main__':
    main()
