#!/usr/bin/env python3
"""Golden values for src/diffusion/scheduler.ts.

A plain-Python (float64, no dependencies) transcription of the formulas of diffusers'
DDIMScheduler (set_timesteps for the leading / trailing / linspace spacings, step with eta and
variance_noise, clip_sample, prediction types, add_noise), run on a fixed toy model. diffusers itself
cannot be installed on these machines; this script follows its scheduling_ddim.py line by line.

Run: python3 scripts/golden/ddim_golden.py > src/diffusion/__fixtures__/ddim-golden.json
"""
import json
import math


def betas_for(cfg):
    T = cfg["numTrainTimesteps"]
    lin = lambda a, b, i: a if T == 1 else a + (b - a) * i / (T - 1)
    if cfg["betaSchedule"] == "linear":
        return [lin(cfg["betaStart"], cfg["betaEnd"], i) for i in range(T)]
    if cfg["betaSchedule"] == "scaled_linear":
        return [lin(math.sqrt(cfg["betaStart"]), math.sqrt(cfg["betaEnd"]), i) ** 2 for i in range(T)]
    raise ValueError(cfg["betaSchedule"])


def set_timesteps(cfg, n):
    T = cfg["numTrainTimesteps"]
    sp = cfg["timestepSpacing"]
    if sp == "linspace":
        # np.linspace(0, T - 1, n).round()[::-1]
        vals = [round((T - 1) * i / (n - 1)) if n > 1 else 0 for i in range(n)]
        return vals[::-1]
    if sp == "leading":
        ratio = T // n
        return [i * ratio + cfg["stepsOffset"] for i in range(n)][::-1]
    if sp == "trailing":
        ratio = T / n
        out, v = [], float(T)
        while v > 0 and len(out) < math.ceil(T / ratio):
            out.append(round(v) - 1)
            v -= ratio
        return out
    raise ValueError(sp)


def step(cfg, ac, final, n, model_output, t, sample, eta=0.0, noise=None):
    T = cfg["numTrainTimesteps"]
    prev = t - T // n
    a = ac[t]
    ap = ac[prev] if prev >= 0 else final
    b = 1 - a
    pt = cfg["predictionType"]
    if pt == "epsilon":
        x0 = [(s - b ** 0.5 * m) / a ** 0.5 for s, m in zip(sample, model_output)]
        eps = list(model_output)
    elif pt == "sample":
        x0 = list(model_output)
        eps = [(s - a ** 0.5 * x) / b ** 0.5 for s, x in zip(sample, x0)]
    else:  # v_prediction
        x0 = [a ** 0.5 * s - b ** 0.5 * m for s, m in zip(sample, model_output)]
        eps = [a ** 0.5 * m + b ** 0.5 * s for s, m in zip(sample, model_output)]
    if cfg["clipSample"]:
        r = cfg["clipSampleRange"]
        x0 = [min(max(x, -r), r) for x in x0]
    var = ((1 - ap) / (1 - a)) * (1 - a / ap)
    std = eta * var ** 0.5
    direction = [(1 - ap - std ** 2) ** 0.5 * e for e in eps]
    prev_sample = [ap ** 0.5 * x + d for x, d in zip(x0, direction)]
    if eta > 0:
        prev_sample = [p + std * z for p, z in zip(prev_sample, noise)]
    return prev_sample, x0


def toy_model(sample, t, T):
    # a fixed, smooth, t-dependent "network"
    return [0.3 * math.sin(s + t / T) + 0.1 * s for s in sample]


def main():
    sample0 = [math.sin(0.7 * i) * 1.5 for i in range(12)]
    noise = [math.cos(1.3 * i + 0.2) for i in range(12)]
    cases = []
    base = dict(numTrainTimesteps=1000, betaStart=0.0001, betaEnd=0.02, betaSchedule="linear", clipSample=True,
                clipSampleRange=1.0, setAlphaToOne=True, stepsOffset=0, predictionType="epsilon", timestepSpacing="leading")
    variants = [
        dict(),
        dict(betaSchedule="scaled_linear", betaStart=0.00085, betaEnd=0.012, clipSample=False, setAlphaToOne=False, stepsOffset=1),
        dict(timestepSpacing="trailing", clipSample=False),
        dict(timestepSpacing="linspace", predictionType="v_prediction", clipSample=False),
        dict(predictionType="sample", clipSampleRange=0.8),
    ]
    for k, v in enumerate(variants):
        cfg = dict(base, **v)
        betas = betas_for(cfg)
        ac, p = [], 1.0
        for bt in betas:
            p *= 1 - bt
            ac.append(p)
        final = 1.0 if cfg["setAlphaToOne"] else ac[0]
        n = 10
        ts = set_timesteps(cfg, n)
        for eta in (0.0, 0.5):
            x = list(sample0)
            traj, x0s = [], []
            for j, t in enumerate(ts):
                mo = toy_model(x, t, cfg["numTrainTimesteps"])
                nz = [z * (1 + 0.1 * j) for z in noise]
                x, x0 = step(cfg, ac, final, n, mo, t, x, eta, nz)
                traj.append(x)
                x0s.append(x0)
            t_add = ts[n // 2]
            added = [ac[t_add] ** 0.5 * s + (1 - ac[t_add]) ** 0.5 * z for s, z in zip(sample0, noise)]
            cases.append(dict(config=cfg, numSteps=n, eta=eta, timesteps=ts, alphasCumprodAt={str(t): ac[t] for t in ts},
                              finalAlphaCumprod=final, trajectory=traj, predOriginal=x0s, addNoiseT=t_add, addNoise=added))
    print(json.dumps(dict(sample=sample0, noise=noise, noiseGrowth=0.1, cases=cases)))


if __name__ == "__main__":
    main()
