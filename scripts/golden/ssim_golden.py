#!/usr/bin/python3
"""Golden SSIM/PSNR values from scikit-image for src/evaluation/image-metrics.test.ts.

Run with Debian's interpreter (apt-get install python3-skimage):
    /usr/bin/python3 scripts/golden/ssim_golden.py > src/evaluation/__fixtures__/ssim_golden.json
Images are stored as uint8 (value/255) in base64, HWC; skimage is never a test dependency.
"""
import base64
import json

import numpy as np
import skimage
from skimage.metrics import structural_similarity, peak_signal_noise_ratio

rng = np.random.default_rng(20261125)


def q(img):
    return np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)


def structured(h, w, c):
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = [np.sin(6 * xx + k) * np.cos(4 * yy - k) * 0.4 + 0.5 for k in range(c)]
    img = np.stack(base, -1)
    img[h // 4: h // 2, w // 3: 2 * w // 3, :] = 0.9  # a bright rectangle
    return img


cases = []


def add(name, a, b):
    a8, b8 = q(a), q(b)
    af = a8.astype(np.float64) / 255.0
    bf = b8.astype(np.float64) / 255.0
    s = structural_similarity(af, bf, channel_axis=-1, data_range=1, gaussian_weights=True,
                              sigma=1.5, use_sample_covariance=False)
    p = peak_signal_noise_ratio(af, bf, data_range=1)
    h, w, c = a8.shape
    cases.append({
        'name': name, 'h': h, 'w': w, 'c': c,
        'a': base64.b64encode(a8.tobytes()).decode(), 'b': base64.b64encode(b8.tobytes()).decode(),
        'ssim': float(s), 'psnr': float(p),
    })


for size, c in [(16, 1), (16, 3), (32, 3), (64, 3), (48, 1)]:
    add(f'random-{size}x{size}x{c}', rng.random((size, size, c)), rng.random((size, size, c)))
    s = structured(size, size, c)
    add(f'structured-noise8-{size}x{size}x{c}', s, s + rng.uniform(-8 / 255, 8 / 255, s.shape))
    add(f'structured-noise32-{size}x{size}x{c}', s, s + rng.uniform(-32 / 255, 32 / 255, s.shape))
s = structured(24, 40, 3)
add('structured-shift-24x40x3', s, np.roll(s, 2, axis=1))
add('structured-dark-64x64x3', structured(64, 64, 3), structured(64, 64, 3) * 0.7)

print(json.dumps({'skimage': skimage.__version__, 'numpy': np.__version__,
                  'call': 'structural_similarity(a, b, channel_axis=-1, data_range=1, gaussian_weights=True, '
                          'sigma=1.5, use_sample_covariance=False)',
                  'cases': cases}, indent=1))
