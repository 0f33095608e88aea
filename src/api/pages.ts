/**
 * The minimal pages that invitation, reset and confirmation links open: a form that calls the
 * JSON route with the token from the link. Server-rendered, no external assets; the token in
 * the URL never leaves through a Referer header.
 */
import { Elysia, t } from "elysia";
import { looksLikeToken } from "../core/tokens";
import type { ApiDeps } from "./context";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface PageSpec {
  title: string;
  intro: string;
  /** Password field shown (invite, reset) or not (confirm). */
  password: boolean;
  endpoint: string;
  done: string;
}

const PAGES: Record<"invite" | "reset" | "confirm", PageSpec> = {
  invite: { title: "Join ipkeep", intro: "Choose a password for your new account.", password: true, endpoint: "/api/auth/accept-invite", done: "Your account is ready. You can sign in now." },
  reset: { title: "Reset your password", intro: "Choose a new password.", password: true, endpoint: "/api/auth/password-reset/confirm", done: "Your password was changed. You can sign in now." },
  confirm: { title: "Confirm your e-mail address", intro: "Confirm that this address is yours.", password: false, endpoint: "/api/auth/confirm-email", done: "Your e-mail address is confirmed." },
};

const SCRIPT = `
const f = document.getElementById("f"), out = document.getElementById("out");
f.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = { token: f.dataset.token };
  if (f.password) {
    if (f.password.value !== f.again.value) { out.textContent = "The passwords differ."; return; }
    body.password = f.password.value;
  }
  f.querySelector("button").disabled = true;
  try {
    const r = await fetch(f.dataset.endpoint, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (r.ok) { f.hidden = true; out.textContent = f.dataset.done; return; }
    const j = await r.json().catch(() => ({}));
    out.textContent = j.error || ("Failed (" + r.status + ")");
  } catch { out.textContent = "The server could not be reached."; }
  f.querySelector("button").disabled = false;
});`;

async function sha256Base64(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...d));
}

function render(spec: PageSpec, token: string): string {
  const fields = spec.password
    ? `<label>New password <input type="password" name="password" minlength="8" maxlength="256" autocomplete="new-password" required></label>
  <label>Again <input type="password" name="again" minlength="8" maxlength="256" autocomplete="new-password" required></label>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(spec.title)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.8rem 0}input{display:block;width:100%;padding:.4rem;box-sizing:border-box}button{padding:.5rem 1rem}#out{margin-top:1rem}</style>
</head><body>
<h1>${esc(spec.title)}</h1>
<p>${esc(spec.intro)}</p>
<form id="f" data-token="${esc(token)}" data-endpoint="${esc(spec.endpoint)}" data-done="${esc(spec.done)}">
  ${fields}
  <button type="submit">${spec.password ? "Save" : "Confirm"}</button>
</form>
<p id="out" role="status"></p>
<script>${SCRIPT}</script>
</body></html>`;
}

export function pageRoutes(_deps: ApiDeps) {
  const scriptHash = sha256Base64(SCRIPT);
  const page = async (kind: keyof typeof PAGES, token: string) => {
    const ok = looksLikeToken(token, "oneTime");
    const html = ok
      ? render(PAGES[kind], token)
      : `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Invalid link</title></head><body><h1>This link is not valid</h1><p>Ask for a new one.</p></body></html>`;
    return new Response(html, {
      status: ok ? 200 : 404,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "content-security-policy": `default-src 'none'; script-src 'sha256-${await scriptHash}'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
      },
    });
  };
  const params = t.Object({ token: t.String({ maxLength: 512 }) });
  const detail = { tags: ["pages"], hide: true };
  return new Elysia()
    .get("/invite/:token", ({ params: p }) => page("invite", p.token), { params, detail })
    .get("/reset/:token", ({ params: p }) => page("reset", p.token), { params, detail })
    .get("/confirm/:token", ({ params: p }) => page("confirm", p.token), { params, detail });
}
