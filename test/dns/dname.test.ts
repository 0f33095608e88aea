/**
 * Name keys and hashes: a name read from a query's wire bytes and the same name read from
 * zone text must give the same key and the same hash, whatever the case and escapes.
 */
import { describe, expect, it } from "vitest";
import { keyHash, nameInfo, nameKey, suffixHashes, suffixKeys } from "../../src/dns/dname";

/** Wire name (uncompressed) and its label offsets, as answer() sees a question; shout: upper case. */
function wireOf(text: string, shout: boolean): { b: Uint8Array; offsets: number[] } {
  const info = nameInfo(nameKey(text));
  const b = info.wire.slice();
  if (shout) for (let i = 0; i < b.length; i++) if (b[i]! >= 0x61 && b[i]! <= 0x7a) b[i] = b[i]! & ~0x20;
  return { b, offsets: info.offsets };
}

const NAMES = [
  "www.example.test",
  "WWW.Example.TEST",
  "w\\.x.example.test",
  "a\\000b.example.test",
  "x\\ y.test",
  "\\@.test",
  "*.wild.example",
  "single",
  `${"a".repeat(63)}.b`,
];

describe("name keys and hashes", () => {
  it("gives a wire name and its text the same suffix keys and hashes", () => {
    for (const [text, shout] of NAMES.flatMap(
      (n) =>
        [
          [n, false],
          [n, true],
        ] as const,
    )) {
      const key = nameKey(text);
      const { b, offsets } = wireOf(text, shout);
      const keys = suffixKeys(b, offsets);
      expect(keys[0]).toBe(key);
      expect(keys[offsets.length]).toBe("");
      const hashes = new Int32Array(offsets.length + 1);
      suffixHashes(b, offsets, hashes);
      for (let i = 0; i <= offsets.length; i++) expect([text, i, hashes[i]]).toEqual([text, i, keyHash(keys[i]!)]);
    }
  });

  it("folds case in keys and hashes alike", () => {
    const upper = new Uint8Array([3, 0x57, 0x57, 0x57, 4, 0x54, 0x65, 0x53, 0x74, 0]);
    const lower = new Uint8Array([3, 0x77, 0x77, 0x77, 4, 0x74, 0x65, 0x73, 0x74, 0]);
    const a = new Int32Array(3);
    const b = new Int32Array(3);
    suffixHashes(upper, [0, 4], a);
    suffixHashes(lower, [0, 4], b);
    expect([...a]).toEqual([...b]);
    expect(suffixKeys(upper, [0, 4])).toEqual(["www.test", "test", ""]);
  });

  it("tells different names apart", () => {
    const seen = new Set(["a.b", "ab", "a.b.c", "b.a", "a\\.b", "", "a"].map(keyHash));
    expect(seen.size).toBe(7);
  });
});
