// Seeded randomness for the ELS simulator: the same seed gives the same sequence on every platform.

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// sfc32 seeded through splitmix32: small, fast, and the same sequence on every platform.
/** Seeded random numbers and ids for the simulator. */
export class Rng {
  private s: [number, number, number, number];
  constructor(seed: number) {
    const t = Math.trunc(seed);
    let x = ((t >>> 0) ^ Math.imul(Math.floor(t / 4294967296) >>> 0, 0x9e3779b9)) >>> 0;
    const mix = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = [mix(), mix(), mix(), mix()];
    for (let i = 0; i < 12; i++) this.float();
  }
  float(): number {
    let [a, b, c, d] = this.s;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = ((c << 21) | (c >>> 11)) + t;
    this.s = [a, b, c | 0, d];
    return (t >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.float() * xs.length)]!;
  }
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
  lognormal(median: number, sigma: number): number {
    const n = Math.sqrt(-2 * Math.log(1 - this.float())) * Math.cos(2 * Math.PI * this.float());
    return median * Math.exp(sigma * n);
  }
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = this.float(); p > limit; p *= this.float()) k++;
    return k;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(0, 15)];
    return s;
  }
  uuid(): string {
    const h = this.hex(32);
    const variant = '89ab'[this.int(0, 3)];
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20)}`;
  }
  ulid(ms: number): string {
    let time = '';
    for (let t = Math.max(0, Math.floor(ms)), i = 0; i < 10; i++, t = Math.floor(t / 32)) {
      time = CROCKFORD[t % 32] + time;
    }
    let rand = '';
    for (let i = 0; i < 16; i++) rand += CROCKFORD[this.int(0, 31)];
    return time + rand;
  }
}
