/**
 * Accounts as the machine's operator manages them (the CLI): add a user with a password,
 * remove one with everything it owns, clear a lost second factor. The rules for who may
 * claim an address are auth.ts's (claimableUser); these are the operator's powers.
 */
import { claimableUser, normalizeEmail, type PasswordHasher } from "./auth";
import { fail } from "./errors";
import { nowSeconds, type Platform } from "./platform";
import type { AccountStore, ChangeSink, CoreStore, Role, UserRow } from "./ports";

export interface OperatorActor {
  id: number | null;
  name: string;
  address: string | null;
}

type Store = CoreStore & AccountStore & { users: { remove(id: number): boolean } };

export interface UserDeps {
  store: Store;
  platform: Platform;
  changes: ChangeSink;
}

/**
 * Creates a user with a password (policy-checked), or gives a password (and the role) to the
 * password-less user that `host add --owner` made for that address. An address with a
 * password already is a conflict.
 */
export async function addUser(
  d: UserDeps & { passwords: PasswordHasher },
  input: { email: string; password: string; role: Role },
  actor: OperatorActor,
): Promise<{ user: UserRow; existed: boolean }> {
  const email = normalizeEmail(input.email);
  claimableUser(d, email);
  const hash = await d.passwords.hash(input.password);
  return d.store.transaction(() => {
    const t = nowSeconds(d.platform.clock);
    const existing = claimableUser(d, email);
    let id: number;
    if (existing) {
      id = existing.id;
      d.store.accounts.setPassword(id, hash, t);
      if (input.role !== existing.role) d.store.accounts.setRole(id, input.role, t);
    } else id = d.store.users.create({ email, role: input.role, passwordHash: hash }, t).id;
    d.store.logs.audit({ actorId: actor.id, actor: actor.name, action: "user.add", target: `user:${id}`, address: actor.address, detail: input.role }, t);
    return { user: d.store.users.byId(id)!, existed: !!existing };
  });
}

/**
 * Removes a user with its hostnames (their tokens and records), custom domains and keys;
 * the zones those lived in get a new serial so DNS and the secondaries follow. The last
 * admin stays: without one nobody could manage the install.
 */
export function removeUser(d: UserDeps, userId: number, actor: OperatorActor): { email: string; hostnames: number; domains: number } {
  const touched = new Set<number>();
  const result = d.store.transaction(() => {
    const u = d.store.users.byId(userId);
    if (!u) fail("not_found", "User not found");
    if (u.role === "admin" && d.store.users.list().filter((x) => x.role === "admin").length === 1) {
      fail("conflict", `${u.email} is the only admin: make another one first (ipkeep user add EMAIL --admin)`);
    }
    const t = nowSeconds(d.platform.clock);
    const hosts = d.store.hosts.list(userId);
    for (const h of hosts) {
      d.store.hosts.remove(h.id);
      touched.add(h.domainId);
    }
    const domains = d.store.domains.list().filter((z) => z.ownerId === userId);
    for (const z of domains) {
      d.store.domains.remove(z.id);
      touched.add(z.id);
    }
    for (const id of touched) if (d.store.domains.byId(id)) d.store.domains.bumpSerial(id, t);
    d.store.tokens.removeOrphans();
    d.store.users.remove(userId);
    d.store.logs.audit(
      {
        actorId: actor.id,
        actor: actor.name,
        action: "user.remove",
        target: `user:${userId} ${u.email}`,
        address: actor.address,
        detail: `${hosts.length} hostnames, ${domains.length} domains`,
      },
      t,
    );
    return { email: u.email, hostnames: hosts.length, domains: domains.length };
  });
  for (const id of touched) d.changes.zoneChanged(id);
  return result;
}

/**
 * Clears a user's two-factor authentication (the phone is lost): the secret and recovery
 * codes go, and every session is signed out; the password then signs in alone.
 */
export function resetTwoFactor(d: Pick<UserDeps, "store" | "platform">, userId: number, actor: OperatorActor): { wasEnabled: boolean } {
  return d.store.transaction(() => {
    const t = nowSeconds(d.platform.clock);
    const wasEnabled = !!d.store.accounts.credentials(userId)?.totpEnabled;
    d.store.accounts.setTotp(userId, null, false, t);
    d.store.recoveryCodes.clear(userId);
    d.store.sessions.revokeAllFor(userId, t);
    d.store.logs.audit({ actorId: actor.id, actor: actor.name, action: "user.2fa_reset", target: `user:${userId}`, address: actor.address }, t);
    return { wasEnabled };
  });
}
