/** A clock tests move by hand, so nothing waits on real time. */
export class TestClock {
  constructor(private current = Date.parse("2026-06-01T12:00:00Z")) {}
  readonly now = (): number => this.current;
  advance(ms: number): void {
    this.current += ms;
  }
  seconds(): number {
    return Math.floor(this.current / 1000);
  }
}
