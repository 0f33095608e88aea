import { describe, expect, it } from "vitest";
import { baseUrl, baseUrlFrom, PUBLIC_URL_SETTING } from "../../src/core/urls";

describe("the base-URL rule", () => {
  it("takes the flag, then the stored URL, then the origin; no trailing slash", () => {
    expect(baseUrl({ flag: "https://flag.example/", stored: "https://stored.example", origin: "http://127.0.0.1:8080" })).toBe("https://flag.example");
    expect(baseUrl({ flag: null, stored: "https://stored.example//", origin: "http://127.0.0.1:8080" })).toBe("https://stored.example");
    expect(baseUrl({ flag: "", stored: " ", origin: "http://127.0.0.1:8080/" })).toBe("http://127.0.0.1:8080");
  });
  it("reads the stored URL from settings", () => {
    const settings = { get: (k: string) => (k === PUBLIC_URL_SETTING ? "https://ddns.example.com" : null) };
    expect(baseUrlFrom(settings, undefined, "http://x:1")).toBe("https://ddns.example.com");
  });
});
