import { describe, expect, it } from 'vitest';
import type { DiffusionQuality } from '../evaluation/diffusion-quality.js';
import { diffusionQualitySection } from './diffusion-quality.js';

const q = (recon: number, rt: number, warning: string | null): DiffusionQuality => ({
  items: 32, sample: '32 non-target items', reconSsim: recon, roundTripSsim: rt, perItem: { recon: [], roundTrip: [] },
  protocol: 'mean SSIM over 32 items', thresholds: { recon: 0.7, roundTrip: 0.5 }, outOfDomain: warning !== null, warning,
});

describe('report: diffusion model quality', () => {
  it('shows before/after values and the out-of-domain warning', () => {
    const html = diffusionQualitySection({ diffusionQuality: { before: q(0.41, 0.2, 'out <of> domain'), after: q(0.35, 0.3, 'the diffusion model is out of its domain') } });
    expect(html).toContain('before fitting');
    expect(html).toContain('0.410');
    expect(html).toMatch(/Warning:<\/b> the diffusion model is out of its domain/);
    expect(html).toContain('out of domain');
  });
  it('is absent when no attack used the diffusion model, and has no warning in domain', () => {
    expect(diffusionQualitySection({})).toBe('');
    const html = diffusionQualitySection({ diffusionQuality: { before: null, after: q(0.87, 0.76, null) } });
    expect(html).toContain('as loaded');
    expect(html).not.toContain('Warning');
  });
});
