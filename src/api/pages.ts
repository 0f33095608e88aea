/**
 * The minimal pages that invitation, reset and confirmation links open: a form that calls the
 * JSON route with the token from the link. Server-rendered, no external assets; the token in
 * the URL never leaves through a Referer header. And the API reference at /api/docs, drawn
 * in the browser from /api/openapi.json by an inline script: no CDN, nothing fetched from
 * anywhere but this server (a third-party script on a page of the API would see its tokens).
 */
import { Elysia, t } from "elysia";
import { looksLikeToken } from "../core/tokens";
import type { HttpContext } from "./context";

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
  invite: {
    title: "Join ipkeep",
    intro: "Choose a password for your new account.",
    password: true,
    endpoint: "/api/auth/accept-invite",
    done: "Your account is ready. You can sign in now.",
  },
  reset: {
    title: "Reset your password",
    intro: "Choose a new password.",
    password: true,
    endpoint: "/api/auth/password-reset/confirm",
    done: "Your password was changed. You can sign in now.",
  },
  confirm: {
    title: "Confirm your e-mail address",
    intro: "Confirm that this address is yours.",
    password: false,
    endpoint: "/api/auth/confirm-email",
    done: "Your e-mail address is confirmed.",
  },
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

/**
 * The first admin's page (`https://NAME/setup#CODE`, printed by init and install.sh): the code
 * is in the fragment, which browsers never send, so it reaches no log and no Referer.
 */
const SETUP_SCRIPT = `
const f = document.getElementById("f"), out = document.getElementById("out");
const code = decodeURIComponent(location.hash.slice(1));
if (!code) { f.hidden = true; out.textContent = "This page needs the link that ipkeep init printed (it ends in #ipko_…)."; }
f.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (f.password.value !== f.again.value) { out.textContent = "The passwords differ."; return; }
  f.querySelector("button").disabled = true;
  try {
    const r = await fetch("/api/auth/setup", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code, email: f.email.value, password: f.password.value }) });
    if (r.ok) { f.hidden = true; history.replaceState(null, "", location.pathname); out.textContent = "You are the admin now. Sign in with this e-mail address and password."; return; }
    const j = await r.json().catch(() => ({}));
    out.textContent = j.error || ("Failed (" + r.status + ")");
  } catch { out.textContent = "The server could not be reached."; }
  f.querySelector("button").disabled = false;
});`;

const SETUP_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Set up ipkeep</title>
<style>body{font:16px system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.8rem 0}input{display:block;width:100%;padding:.4rem;box-sizing:border-box}button{padding:.5rem 1rem}#out{margin-top:1rem}</style>
</head><body>
<h1>Set up ipkeep</h1>
<p>Create the first admin account of this server.</p>
<form id="f">
  <label>E-mail <input type="email" name="email" maxlength="254" autocomplete="username" required></label>
  <label>Password <input type="password" name="password" minlength="8" maxlength="256" autocomplete="new-password" required></label>
  <label>Again <input type="password" name="again" minlength="8" maxlength="256" autocomplete="new-password" required></label>
  <button type="submit">Create the admin</button>
</form>
<p id="out" role="status"></p>
<script>${SETUP_SCRIPT}</script>
</body></html>`;

const DOCS_SCRIPT = `
const main = document.getElementById("ops");
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
const json = (v) => el("pre", JSON.stringify(v, null, 2));
fetch("/api/openapi.json").then((r) => r.json()).then((spec) => {
  const schemes = Object.keys((spec.components && spec.components.securitySchemes) || {});
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method) || !op || typeof op !== "object") continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([method, path, op]);
    }
  }
  for (const [tag, ops] of [...byTag].sort((a, b) => a[0].localeCompare(b[0]))) {
    main.append(el("h2", tag));
    for (const [method, path, op] of ops) {
      const d = el("details");
      const s = el("summary");
      s.append(el("code", method.toUpperCase(), "m " + method), " ", el("code", path), op.summary ? " " + op.summary : "");
      d.append(s);
      if (op.description) d.append(el("p", op.description));
      if (op.security && op.security.length) d.append(el("p", "Authorization: " + (schemes.join(", ") || "required")));
      if (op.parameters && op.parameters.length) { d.append(el("h3", "Parameters")); d.append(json(op.parameters.map((p) => ({ name: p.name, in: p.in, required: !!p.required, schema: p.schema })))); }
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      if (body) { d.append(el("h3", "Request body (JSON)")); d.append(json(body.schema)); }
      if (op.responses) { d.append(el("h3", "Responses")); d.append(json(op.responses)); }
      main.append(d);
    }
  }
}).catch(() => { main.textContent = "The API description could not be loaded."; });`;

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

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ipkeep API</title>
<style>body{font:15px system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}summary{cursor:pointer;padding:.3rem 0}pre{background:#f4f4f4;padding:.5rem;overflow:auto;font-size:13px}code.m{display:inline-block;min-width:4.5rem;font-weight:bold}h2{margin-top:2rem;text-transform:capitalize}h3{font-size:14px}</style>
</head><body>
<h1>ipkeep API</h1>
<p>Every route of this server, from <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3). Send a session token from <code>POST /api/auth/login</code> or an API key as <code>Authorization: Bearer …</code>.</p>
<main id="ops"></main>
<script>${DOCS_SCRIPT}</script>
</body></html>`;

export function pageRoutes(_deps: HttpContext) {
  const scriptHash = sha256Base64(SCRIPT);
  const docsHash = sha256Base64(DOCS_SCRIPT);
  const setupHash = sha256Base64(SETUP_SCRIPT);
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
    .get(
      "/setup",
      async () =>
        new Response(SETUP_HTML, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "cache-control": "no-store",
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
            "content-security-policy": `default-src 'none'; script-src 'sha256-${await setupHash}'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
          },
        }),
      { detail },
    )
    .get("/invite/:token", ({ params: p }) => page("invite", p.token), { params, detail })
    .get("/reset/:token", ({ params: p }) => page("reset", p.token), { params, detail })
    .get("/confirm/:token", ({ params: p }) => page("confirm", p.token), { params, detail })
    .get(
      "/api/docs",
      async () =>
        new Response(DOCS_HTML, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "cache-control": "no-cache",
            "x-frame-options": "DENY",
            "content-security-policy": `default-src 'none'; script-src 'sha256-${await docsHash}'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'`,
          },
        }),
      { detail: { tags: ["pages"], hide: true } },
    );
}
