/**
 * The account rules: password policy and hashing budget, sessions, the first admin,
 * registration and invitations, API keys, TOTP two-factor, password reset and e-mail
 * confirmation. Transports (api/, cli/) translate to and from these functions.
 *
 * JWT signing is a port (SessionSigner): core decides what a session is (id, owner, expiry,
 * revocation); the outer layer decides how its bearer string is encoded.
 */
import { fail } from "./errors";
import { FairHashQueue, type HashFor, type HashStart, type LoginDelays, sourceKey } from "./limits";
import type { Mailer, MailMessage } from "./mail";
import { nowSeconds, type Platform } from "./platform";
import type { AccountRow, AccountStore, ApiKeyRow, OneTimePurpose, Quota, UserRow } from "./ports";
import { registrationOpen } from "./settings";
import { base64url, hashToken, looksLikeToken, mintToken } from "./tokens";
import { matchTotp, newTotpSecret, otpauthUrl } from "./totp";

// ---- passwords ----

/** Dokploy's minimum; long enough to stop the worst, short enough for a passphrase habit. */
export const MIN_PASSWORD_LENGTH = 8;
/** argon2 hashes any length, but a megabyte password is a cheap denial of service. */
export const MAX_PASSWORD_LENGTH = 256;

export function checkPassword(pw: string): void {
  if (pw.length < MIN_PASSWORD_LENGTH) fail("invalid_input", `Password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (pw.length > MAX_PASSWORD_LENGTH) fail("invalid_input", `Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
}

const EMAIL = /^[^\s@]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;

export function normalizeEmail(email: string): string {
  const e = email.trim();
  if (e.length > 254 || !EMAIL.test(e)) fail("invalid_input", "Invalid e-mail address");
  return e.toLowerCase();
}

/**
 * Each argon2id hash costs ~64 MiB and ~0.1 s of a core: two run at once, the rest wait in a
 * fair queue (core/limits.ts FairHashQueue: turns by source, then by account, so one
 * source's flood cannot starve another). Beyond the queue bounds the caller is told to come
 * back later.
 */
export const MAX_CONCURRENT_HASHES = 2;
export const MAX_QUEUED_HASHES = 64;
export const MAX_QUEUED_HASHES_PER_SOURCE = 16;

/** A hash done on nobody's behalf in particular (the CLI, tests). */
const LOCAL: HashFor = { source: "local", account: "" };

export class PasswordHasher {
  readonly queue: FairHashQueue;
  private dummy: Promise<string> | null = null;

  constructor(
    private platform: Platform,
    opts: { slots?: number; maxQueued?: number; maxPerSource?: number; onStart?: (s: HashStart) => void } = {},
  ) {
    this.queue = new FairHashQueue(
      opts.slots ?? MAX_CONCURRENT_HASHES,
      opts.maxQueued ?? MAX_QUEUED_HASHES,
      opts.maxPerSource ?? MAX_QUEUED_HASHES_PER_SOURCE,
      opts.onStart,
    );
  }

  hash(pw: string, who: HashFor = LOCAL): Promise<string> {
    checkPassword(pw);
    return this.queue.run(who, () => this.platform.hashPassword(pw));
  }

  /**
   * Checks a password against a hash; with no hash (unknown user, invited but not yet set)
   * it verifies against a dummy hash anyway so the answer takes the same time. admit runs
   * when the turn comes, before the hash (it may refuse: no hash is spent then).
   */
  async verify(pw: string, hash: string | null, who: HashFor = LOCAL, admit?: () => void): Promise<boolean> {
    if (pw.length > MAX_PASSWORD_LENGTH) return false;
    if (!hash) {
      this.dummy ??= this.queue.run(LOCAL, () => this.platform.hashPassword(base64url(this.platform.randomBytes(24))));
      const dummy = await this.dummy;
      await this.queue.run(who, () => this.platform.verifyPassword(pw, dummy), admit);
      return false;
    }
    return this.queue.run(who, () => this.platform.verifyPassword(pw, hash), admit);
  }
}

// ---- sessions ----

/** Short: a stolen JWT is useful for at most an hour, and logout revokes it at once anyway. */
export const SESSION_TTL = 60 * 60;
/** The second-factor step must follow the password quickly. */
export const LOGIN_TICKET_TTL = 5 * 60;
export const INVITE_TTL = 7 * 24 * 60 * 60;
export const RESET_TTL = 60 * 60;
export const CONFIRM_TTL = 48 * 60 * 60;
export const RECOVERY_CODE_COUNT = 10;

export interface SessionClaims {
  /** User id. */
  sub: string;
  /** Session id (sessions.id). */
  jti: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

export interface SessionSigner {
  sign(claims: SessionClaims): Promise<string>;
  /** The claims of a well-formed token with a good signature that has not expired; else null. */
  verify(token: string): Promise<SessionClaims | null>;
}

export interface AuthDeps {
  store: AccountStore;
  platform: Platform;
  passwords: PasswordHasher;
  signer: SessionSigner;
  /** The mailer for the SMTP settings in force, or null when none is configured. */
  mailer: () => Mailer | null;
  /** Logs a mail failure (core has no logger). */
  onMailError?: (e: unknown) => void;
  /** The per-account failure delay of this process (none: no delay, as in the CLI). */
  loginDelays?: LoginDelays;
}

export interface RequestMeta {
  address: string | null;
  userAgent: string | null;
  /** Base URL for links in mails ("https://ddns.example.com"). */
  baseUrl: string;
}

/** The public view of a user: what /api/auth/me and the admin routes answer. */
export interface UserView {
  id: number;
  email: string;
  role: "admin" | "user";
  disabled: boolean;
  emailConfirmed: boolean;
  twoFactorEnabled: boolean;
  quota: Quota;
  createdAt: string;
  /** ipdock's plan field, for its clients: a self-hosted server has one plan, with no upgrades. */
  plan: "free";
}

export function userView(a: AccountRow): UserView {
  return {
    id: a.id,
    email: a.email,
    role: a.role,
    disabled: a.disabled,
    emailConfirmed: a.emailConfirmed,
    twoFactorEnabled: a.totpEnabled,
    quota: a.quota,
    createdAt: new Date(a.createdAt * 1000).toISOString(),
    plan: "free",
  };
}

export interface SessionAnswer {
  token: string;
  user: UserView;
}

const now = (d: { platform: Platform }) => nowSeconds(d.platform.clock);

function account(d: AuthDeps, id: number): AccountRow {
  const a = d.store.accounts.byId(id);
  if (!a) fail("not_found", "User not found");
  return a;
}

export async function startSession(d: AuthDeps, userId: number, meta: Pick<RequestMeta, "address" | "userAgent">): Promise<SessionAnswer> {
  const t = now(d);
  const id = base64url(d.platform.randomBytes(16));
  const exp = t + SESSION_TTL;
  d.store.sessions.prune(t);
  d.store.sessions.create({ id, userId, expiresAt: exp, address: meta.address, userAgent: meta.userAgent?.slice(0, 256) ?? null }, t);
  const token = await d.signer.sign({ sub: String(userId), jti: id, exp });
  return { token, user: userView(account(d, userId)) };
}

/**
 * The user behind a session JWT, or a refusal (bad signature, expired, revoked, disabled).
 * The session row decides how long a session lives, not the token: a JWT that claims a
 * later expiry than its row was never issued here (startSession signs the row's expiry), so
 * it is refused even while the row is live, and an expired row ends the session whatever
 * the token says.
 */
export async function sessionUser(d: AuthDeps, token: string): Promise<{ user: UserRow; sessionId: string }> {
  const claims = await d.signer.verify(token);
  if (!claims) fail("unauthorized", "Invalid credentials");
  const t = now(d);
  const s = d.store.sessions.live(claims.jti, t);
  if (!s || String(s.userId) !== claims.sub) fail("unauthorized", "Invalid credentials");
  if (s.expiresAt <= t || claims.exp > s.expiresAt) fail("unauthorized", "Invalid credentials");
  const user = d.store.users.byId(s.userId);
  if (!user || user.disabled) fail("unauthorized", "Invalid credentials");
  return { user, sessionId: s.id };
}

/** The user behind an API key, or a refusal (unknown, revoked, expired, disabled owner). */
export function apiKeyUser(d: Pick<AuthDeps, "store" | "platform">, presented: string): UserRow {
  if (!looksLikeToken(presented, "apiKey")) fail("unauthorized", "Invalid credentials");
  const t = now(d);
  const k = d.store.apiKeys.liveByHash(hashToken(d.platform, presented), t);
  const user = k ? d.store.users.byId(k.userId) : null;
  if (!k || !user || user.disabled) fail("unauthorized", "Invalid credentials");
  d.store.apiKeys.touch(k.id, t);
  return user;
}

export function logout(d: AuthDeps, sessionId: string): void {
  d.store.sessions.revoke(sessionId, now(d));
}

export type LoginAnswer = SessionAnswer | { twoFactorRequired: true; ticket: string };

export async function login(d: AuthDeps, input: { email: string; password: string }, meta: RequestMeta): Promise<LoginAnswer> {
  // A malformed address is simply an unknown user: same work, same answer.
  let email: string | null = null;
  try {
    email = normalizeEmail(input.email);
  } catch {
    email = null;
  }
  const user = email ? d.store.users.byEmail(email) : null;
  const creds = user ? d.store.accounts.credentials(user.id) : null;
  // Counted per address-as-source (IPv6 per /64) and per account (known or not: the same
  // answer either way), checked now and again when the hash's turn comes.
  const who: HashFor = { source: sourceKey(meta.address), account: email ?? "" };
  d.loginDelays?.check(who);
  const ok = await d.passwords.verify(input.password, creds?.passwordHash ?? null, who, () => d.loginDelays?.check(who));
  if (!ok || !user || user.disabled) {
    d.loginDelays?.failed(who);
    fail("unauthorized", "Invalid email or password");
  }
  // With two-factor, the delay clears only once the second factor is right too.
  if (creds?.totpEnabled) {
    const minted = mintToken(d.platform, "oneTime");
    d.store.oneTime.create({ purpose: "login2fa", hash: minted.hash, userId: user.id, expiresAt: now(d) + LOGIN_TICKET_TTL }, now(d));
    return { twoFactorRequired: true, ticket: minted.value };
  }
  d.loginDelays?.succeeded(who);
  d.store.logs.audit({ actorId: user.id, actor: `user:${user.id}`, action: "user.login", target: `user:${user.id}`, address: meta.address }, now(d));
  return startSession(d, user.id, meta);
}

/** A pin or a recovery code for a user with two-factor enabled; false when neither matches. */
function secondFactorOk(d: AuthDeps, userId: number, pin: string): boolean {
  const creds = d.store.accounts.credentials(userId);
  if (!creds?.totpEnabled) return false;
  // No secret with two-factor on: it was sealed with a key this install no longer has (a
  // database restored without its key file); recovery codes are hashes and still work.
  const step = creds.totpSecret ? matchTotp(d.platform, creds.totpSecret, pin, d.platform.clock.now(), creds.totpLastStep) : null;
  if (step !== null) return d.store.accounts.useTotpStep(userId, step);
  if (/^[a-z0-9]{5}-[a-z0-9]{5}$/i.test(pin)) return d.store.recoveryCodes.consume(userId, recoveryHash(d.platform, pin), now(d));
  return false;
}

export async function loginSecondFactor(d: AuthDeps, input: { ticket: string; pin: string }, meta: RequestMeta): Promise<SessionAnswer> {
  // The ticket is single use: a wrong pin costs the caller a new password check.
  const t = consumeOneTime(d, "login2fa", input.ticket);
  if (!t?.userId) fail("unauthorized", "Login ticket is invalid or expired");
  const user = d.store.users.byId(t.userId);
  if (!user || user.disabled) fail("unauthorized", "Login ticket is invalid or expired");
  // A wrong pin is a failed sign-in of the account, as a wrong password is.
  const who: HashFor = { source: sourceKey(meta.address), account: user.email };
  if (!secondFactorOk(d, user.id, input.pin.trim())) {
    d.loginDelays?.failed(who);
    fail("unauthorized", "Invalid two-factor code");
  }
  d.loginDelays?.succeeded(who);
  d.store.logs.audit(
    { actorId: user.id, actor: `user:${user.id}`, action: "user.login", target: `user:${user.id}`, address: meta.address, detail: "2fa" },
    now(d),
  );
  return startSession(d, user.id, meta);
}

function consumeOneTime(d: Pick<AuthDeps, "store" | "platform">, purpose: OneTimePurpose, value: string) {
  if (!looksLikeToken(value, "oneTime")) return null;
  return d.store.oneTime.consume(purpose, hashToken(d.platform, value), now(d));
}

// ---- first admin, registration, invitations ----

export async function setupAdmin(d: AuthDeps, input: { code: string; email: string; password: string }, meta: RequestMeta): Promise<SessionAnswer> {
  if (d.store.users.firstAdmin()) fail("forbidden", "An admin already exists");
  const email = normalizeEmail(input.email);
  const hash = await d.passwords.hash(input.password, { source: sourceKey(meta.address), account: email });
  const userId = d.store.transaction(() => {
    if (d.store.users.firstAdmin()) fail("forbidden", "An admin already exists");
    if (!consumeOneTime(d, "setup", input.code)) fail("unauthorized", "Setup code is invalid, used or expired");
    const t = now(d);
    // `ipkeep host add --owner EMAIL` makes password-less users; the first admin may be one.
    const existing = claimableUser(d, email);
    let id: number;
    if (existing) {
      id = existing.id;
      d.store.accounts.setPassword(id, hash, t);
      d.store.accounts.setRole(id, "admin", t);
    } else id = d.store.users.create({ email, role: "admin", passwordHash: hash }, t).id;
    d.store.logs.audit(
      { actorId: id, actor: `user:${id}`, action: "admin.setup", target: `user:${id}`, address: meta.address, detail: existing ? "existing user" : undefined },
      t,
    );
    return id;
  });
  return startSession(d, userId, meta);
}

/**
 * The account an e-mail address already has, when it is one that a password may still be set
 * on (made password-less by the CLI: `host add --owner`); null when the address is free. An
 * account with a password, or a disabled one, is a conflict: nobody takes it over this way.
 */
export function claimableUser(d: Pick<AuthDeps, "store">, email: string): UserRow | null {
  const u = d.store.users.byEmail(email);
  if (!u) return null;
  if (d.store.accounts.credentials(u.id)?.passwordHash) fail("conflict", "An account with this e-mail already exists");
  if (u.disabled) fail("conflict", "An account with this e-mail already exists and is disabled (ipkeep user enable EMAIL first)");
  return u;
}

export async function register(d: AuthDeps, input: { email: string; password: string }, meta: RequestMeta): Promise<SessionAnswer> {
  if (!registrationOpen(d.store.settings)) fail("forbidden", "Registration is closed; ask the admin for an invitation");
  const email = normalizeEmail(input.email);
  const hash = await d.passwords.hash(input.password, { source: sourceKey(meta.address), account: email });
  const userId = d.store.transaction(() => {
    if (d.store.users.byEmail(email)) fail("conflict", "An account with this e-mail already exists");
    const u = d.store.users.create({ email, role: "user", passwordHash: hash }, now(d));
    d.store.logs.audit({ actorId: u.id, actor: `user:${u.id}`, action: "user.register", target: `user:${u.id}`, address: meta.address }, now(d));
    return u.id;
  });
  sendConfirmation(d, userId, meta.baseUrl);
  return startSession(d, userId, meta);
}

/** Mints an invitation link for an address without an account (the CLI prints it). */
export function issueInvite(
  d: Pick<AuthDeps, "store" | "platform">,
  emailIn: string,
  baseUrl: string,
  actor: { id: number | null; name: string; address: string | null },
): { email: string; token: string; url: string; expiresAt: number } {
  const email = normalizeEmail(emailIn);
  // A password-less account (made by `host add --owner`) may be invited to set its password.
  claimableUser(d, email);
  const minted = mintToken(d.platform, "oneTime");
  const expiresAt = now(d) + INVITE_TTL;
  d.store.oneTime.create({ purpose: "invite", hash: minted.hash, email, expiresAt }, now(d));
  d.store.logs.audit({ actorId: actor.id, actor: actor.name, action: "user.invite", target: email, address: actor.address }, now(d));
  return { email, token: minted.value, url: `${baseUrl}/invite/${minted.value}`, expiresAt };
}

export function invite(d: AuthDeps, actor: UserRow, emailIn: string, meta: RequestMeta): { token: string; url: string } {
  const inv = issueInvite(d, emailIn, meta.baseUrl, { id: actor.id, name: `user:${actor.id}`, address: meta.address });
  deliver(d, {
    to: inv.email,
    subject: "You are invited to ipkeep",
    text: `Set your password to join:\n\n${inv.url}\n\nThe link works once and expires in 7 days.\n`,
  });
  return { token: inv.token, url: inv.url };
}

export async function acceptInvite(d: AuthDeps, input: { token: string; password: string }, meta: RequestMeta): Promise<SessionAnswer> {
  const hash = await d.passwords.hash(input.password, { source: sourceKey(meta.address), account: "" });
  const userId = d.store.transaction(() => {
    const t = consumeOneTime(d, "invite", input.token);
    if (!t?.email) fail("unauthorized", "Invitation is invalid, used or expired");
    const existing = claimableUser(d, t.email);
    const id = existing ? existing.id : d.store.users.create({ email: t.email, role: "user", passwordHash: hash }, now(d)).id;
    if (existing) d.store.accounts.setPassword(id, hash, now(d));
    // The invitation reached this address, which confirms it.
    d.store.accounts.setEmailConfirmed(id, now(d));
    d.store.logs.audit({ actorId: id, actor: `user:${id}`, action: "user.accept_invite", target: `user:${id}`, address: meta.address }, now(d));
    return id;
  });
  return startSession(d, userId, meta);
}

// ---- profile ----

export async function updateProfile(
  d: AuthDeps,
  who: { user: UserRow; sessionId: string | null },
  input: { email?: string; password?: string; currentPassword?: string },
  meta: RequestMeta,
): Promise<UserView> {
  const id = who.user.id;
  if (input.email === undefined && input.password === undefined) fail("invalid_input", "Nothing to change");
  const email = input.email === undefined ? undefined : normalizeEmail(input.email);
  // Changing either the password or the address (which controls password resets) needs the
  // current password: a stolen session must not be able to take the account over.
  const creds = d.store.accounts.credentials(id);
  const ok = await d.passwords.verify(input.currentPassword ?? "", creds?.passwordHash ?? null, { source: sourceKey(meta.address), account: who.user.email });
  if (!ok) fail("forbidden", "Current password is wrong");
  const hash = input.password === undefined ? undefined : await d.passwords.hash(input.password, { source: sourceKey(meta.address), account: who.user.email });
  const emailChanged = email !== undefined && email !== who.user.email;
  d.store.transaction(() => {
    const t = now(d);
    if (emailChanged) {
      const other = d.store.users.byEmail(email!);
      if (other && other.id !== id) fail("conflict", "An account with this e-mail already exists");
      d.store.accounts.setEmail(id, email!, t);
    }
    if (hash) {
      d.store.accounts.setPassword(id, hash, t);
      // Other devices signed in with the old password are signed out.
      d.store.sessions.revokeAllFor(id, t, who.sessionId);
    }
    d.store.logs.audit(
      {
        actorId: id,
        actor: `user:${id}`,
        action: "user.update_profile",
        target: `user:${id}`,
        address: meta.address,
        detail: [emailChanged && "email", hash && "password"].filter(Boolean).join(","),
      },
      t,
    );
  });
  if (emailChanged) sendConfirmation(d, id, meta.baseUrl);
  return userView(account(d, id));
}

// ---- two-factor ----

export function totpSetup(d: AuthDeps, user: UserRow, issuer = "ipkeep"): { secret: string; otpauthUrl: string } {
  const creds = d.store.accounts.credentials(user.id);
  if (creds?.totpEnabled) fail("conflict", "Two-factor authentication is already enabled");
  const secret = newTotpSecret(d.platform);
  d.store.accounts.setTotp(user.id, secret, false, now(d));
  return { secret, otpauthUrl: otpauthUrl(issuer, user.email, secret) };
}

const RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";

function recoveryHash(p: Platform, code: string): string {
  return p.sha256Hex(`recovery:${code.toLowerCase()}`);
}

function newRecoveryCode(p: Platform): string {
  const bytes = p.randomBytes(10);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]);
  return `${chars.slice(0, 5).join("")}-${chars.slice(5).join("")}`;
}

export function totpEnable(d: AuthDeps, user: UserRow, pin: string, meta: Pick<RequestMeta, "address">): { recoveryCodes: string[] } {
  const creds = d.store.accounts.credentials(user.id);
  if (creds?.totpEnabled) fail("conflict", "Two-factor authentication is already enabled");
  if (!creds?.totpSecret) fail("invalid_input", "Start with POST /api/auth/2fa/setup");
  const step = matchTotp(d.platform, creds.totpSecret, pin.trim(), d.platform.clock.now(), creds.totpLastStep);
  if (step === null) fail("invalid_input", "Invalid two-factor code");
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode(d.platform));
  d.store.transaction(() => {
    const t = now(d);
    d.store.accounts.setTotp(user.id, creds.totpSecret, true, t);
    d.store.accounts.useTotpStep(user.id, step);
    d.store.recoveryCodes.replace(
      user.id,
      codes.map((c) => recoveryHash(d.platform, c)),
    );
    d.store.logs.audit({ actorId: user.id, actor: `user:${user.id}`, action: "user.2fa_enable", target: `user:${user.id}`, address: meta.address }, t);
  });
  return { recoveryCodes: codes };
}

export function totpDisable(d: AuthDeps, user: UserRow, pin: string, meta: Pick<RequestMeta, "address">): void {
  const creds = d.store.accounts.credentials(user.id);
  if (!creds?.totpEnabled) fail("invalid_input", "Two-factor authentication is not enabled");
  if (!secondFactorOk(d, user.id, pin.trim())) fail("invalid_input", "Invalid two-factor code");
  d.store.transaction(() => {
    const t = now(d);
    d.store.accounts.setTotp(user.id, null, false, t);
    d.store.recoveryCodes.clear(user.id);
    d.store.logs.audit({ actorId: user.id, actor: `user:${user.id}`, action: "user.2fa_disable", target: `user:${user.id}`, address: meta.address }, t);
  });
}

// ---- password reset, e-mail confirmation ----

function deliver(d: AuthDeps, msg: MailMessage): boolean {
  const mailer = d.mailer();
  if (!mailer) return false;
  // Not awaited: the answer must not wait for (or reveal anything through) the mail server.
  mailer.send(msg).catch((e) => d.onMailError?.(e));
  return true;
}

/** Mints a reset link for a known user (the CLI prints it when there is no SMTP). */
export function issueResetLink(d: Pick<AuthDeps, "store" | "platform">, userId: number, baseUrl: string): { token: string; url: string; expiresAt: number } {
  const minted = mintToken(d.platform, "oneTime");
  const expiresAt = now(d) + RESET_TTL;
  d.store.oneTime.create({ purpose: "reset", hash: minted.hash, userId, expiresAt }, now(d));
  return { token: minted.value, url: `${baseUrl}/reset/${minted.value}`, expiresAt };
}

export function issueConfirmLink(d: Pick<AuthDeps, "store" | "platform">, userId: number, baseUrl: string): { token: string; url: string; expiresAt: number } {
  const minted = mintToken(d.platform, "oneTime");
  const expiresAt = now(d) + CONFIRM_TTL;
  d.store.oneTime.create({ purpose: "confirm", hash: minted.hash, userId, expiresAt }, now(d));
  return { token: minted.value, url: `${baseUrl}/confirm/${minted.value}`, expiresAt };
}

/** Same answer whether or not the address exists; mails only when SMTP is configured. */
export function requestPasswordReset(d: AuthDeps, emailIn: string, meta: RequestMeta): void {
  let email: string;
  try {
    email = normalizeEmail(emailIn);
  } catch {
    return;
  }
  const user = d.store.users.byEmail(email);
  if (!user || user.disabled || !d.mailer()) return;
  const link = issueResetLink(d, user.id, meta.baseUrl);
  deliver(d, {
    to: user.email,
    subject: "Reset your ipkeep password",
    text: `Choose a new password here:\n\n${link.url}\n\nThe link works once and expires in 1 hour. If you did not ask for it, ignore this mail.\n`,
  });
}

export async function confirmPasswordReset(d: AuthDeps, input: { token: string; password: string }, meta: RequestMeta): Promise<void> {
  const hash = await d.passwords.hash(input.password, { source: sourceKey(meta.address), account: "" });
  d.store.transaction(() => {
    const t = consumeOneTime(d, "reset", input.token);
    if (!t?.userId) fail("unauthorized", "Reset link is invalid, used or expired");
    const ts = now(d);
    d.store.accounts.setPassword(t.userId, hash, ts);
    // Whoever held the old password is signed out everywhere.
    d.store.sessions.revokeAllFor(t.userId, ts);
    // The reset link reached the address, which confirms it.
    d.store.accounts.setEmailConfirmed(t.userId, ts);
    d.store.logs.audit({ actorId: t.userId, actor: `user:${t.userId}`, action: "user.password_reset", target: `user:${t.userId}`, address: meta.address }, ts);
  });
}

function sendConfirmation(d: AuthDeps, userId: number, baseUrl: string): void {
  const a = d.store.accounts.byId(userId);
  if (!a || a.emailConfirmed || !d.mailer()) return;
  const link = issueConfirmLink(d, userId, baseUrl);
  deliver(d, {
    to: a.email,
    subject: "Confirm your e-mail address for ipkeep",
    text: `Confirm this address:\n\n${link.url}\n\nThe link works once and expires in 48 hours.\n`,
  });
}

export function confirmEmail(d: Pick<AuthDeps, "store" | "platform">, token: string): void {
  const t = consumeOneTime(d, "confirm", token);
  if (!t?.userId) fail("unauthorized", "Confirmation link is invalid, used or expired");
  d.store.accounts.setEmailConfirmed(t.userId, now(d));
}

// ---- API keys ----

export interface ApiKeyView {
  id: number;
  label: string;
  hint: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

const iso = (s: number | null) => (s === null ? null : new Date(s * 1000).toISOString());

export function apiKeyView(k: ApiKeyRow): ApiKeyView {
  return { id: k.id, label: k.label, hint: k.hint, createdAt: iso(k.createdAt)!, expiresAt: iso(k.expiresAt), lastUsedAt: iso(k.lastUsedAt) };
}

export function createApiKey(
  d: Pick<AuthDeps, "store" | "platform">,
  user: UserRow,
  input: { label?: string; expiresInDays?: number },
  address: string | null,
): { key: string; apiKey: ApiKeyView } {
  const minted = mintToken(d.platform, "apiKey");
  const t = now(d);
  const expiresAt = input.expiresInDays ? t + input.expiresInDays * 86400 : null;
  const row = d.store.apiKeys.create({ userId: user.id, label: input.label ?? "", hash: minted.hash, hint: minted.hint, expiresAt }, t);
  d.store.logs.audit({ actorId: user.id, actor: `user:${user.id}`, action: "apikey.create", target: `apikey:${row.id}`, address }, t);
  return { key: minted.value, apiKey: apiKeyView(row) };
}

/** Another user's key answers 404, as if it did not exist. */
export function revokeApiKey(d: Pick<AuthDeps, "store" | "platform">, user: UserRow, id: number, address: string | null): void {
  const k = d.store.apiKeys.byId(id);
  if (!k || k.userId !== user.id) fail("not_found", "API key not found");
  d.store.apiKeys.revoke(id, now(d));
  d.store.logs.audit({ actorId: user.id, actor: `user:${user.id}`, action: "apikey.revoke", target: `apikey:${id}`, address }, now(d));
}

// ---- admin ----

export function adminUpdateUser(
  d: Pick<AuthDeps, "store" | "platform">,
  actor: UserRow,
  id: number,
  input: { disabled?: boolean; quota?: Partial<Quota> },
  address: string | null,
): UserView {
  const target = account(d as AuthDeps, id);
  if (input.disabled === true && target.id === actor.id) fail("forbidden", "You cannot disable your own account");
  for (const [k, v] of Object.entries(input.quota ?? {})) {
    if (v !== null && (!Number.isInteger(v) || (v as number) < 0)) fail("invalid_input", `quota.${k} must be a whole number or null`);
  }
  d.store.transaction(() => {
    const t = now(d);
    if (input.disabled !== undefined) setUserDisabled(d, id, input.disabled, { id: actor.id, name: `user:${actor.id}`, address });
    if (input.quota) d.store.accounts.setQuota(id, input.quota, t);
    d.store.logs.audit(
      { actorId: actor.id, actor: `user:${actor.id}`, action: "user.admin_update", target: `user:${id}`, address, detail: JSON.stringify(input) },
      t,
    );
  });
  return userView(account(d as AuthDeps, id));
}

/** Disables or re-enables an account; disabling signs it out everywhere. */
export function setUserDisabled(
  d: Pick<AuthDeps, "store" | "platform">,
  id: number,
  disabled: boolean,
  actor: { id: number | null; name: string; address: string | null },
): void {
  d.store.transaction(() => {
    const t = now(d);
    d.store.accounts.setDisabled(id, disabled, t);
    if (disabled) d.store.sessions.revokeAllFor(id, t);
    d.store.logs.audit(
      { actorId: actor.id, actor: actor.name, action: disabled ? "user.disable" : "user.enable", target: `user:${id}`, address: actor.address },
      t,
    );
  });
}

/**
 * The per-install JWT signing secret: the one place it is made (init makes it; serve makes a
 * new one when there is none, or the stored one was sealed with a key this install lacks).
 * 256 random bits, base64url. The store keeps it sealed (store/sealed.ts).
 */
export function ensureJwtSecret(d: { store: Pick<AccountStore, "settings">; platform: Platform }): string {
  const existing = d.store.settings.get("jwt_secret");
  if (existing) return existing;
  const secret = base64url(d.platform.randomBytes(32));
  d.store.settings.set("jwt_secret", secret);
  return secret;
}
