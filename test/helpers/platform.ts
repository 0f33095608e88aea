import type { Clock, Platform } from "../../src/core/platform";
import { createPlatform } from "../../src/platform";

/** A clock the test moves by hand. */
export class TestClock implements Clock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export function testPlatform(clock: Clock = new TestClock()): Platform {
  return createPlatform(clock);
}
