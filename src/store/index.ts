/**
 * The SQLite store: one object holding the table groups, implementing the interfaces core
 * declares (UpdateStore, ...).
 */
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import type { CoreStore, UpdateCommit, UpdateTokenRow } from "../core/ports";
import { metrics } from "../metrics";
import { Accounts, ApiKeys, RecoveryCodes, Sessions } from "./accounts";
import { log } from "../log";
import { Challenges } from "./challenges";
import { CommitBatch } from "./commit-batch";
import { openDatabase } from "./db";
import type { Driver } from "./driver";
import { Dnssec } from "./dnssec";
import { Domains } from "./domains";
import { Hostnames } from "./hostnames";
import { InstallTables } from "./install";
import { Logs } from "./logs";
import { OneTimeTokens } from "./one-time";
import { Records } from "./records";
import { Secondaries } from "./secondaries";
import { sealInClear } from "./sealed";
import { KEY_BYTES, KEY_FILE, loadOrCreateKey, SecretBox } from "./secret-box";
import { Settings } from "./settings";
import { UpdateTokens } from "./tokens";
import { Updates } from "./updates";
import { Users } from "./users";
import { ZoneContentsRepo } from "./zone-contents";

export class Store implements CoreStore {
  readonly users: Users;
  readonly domains: Domains;
  readonly hosts: Hostnames;
  readonly tokens: UpdateTokens;
  readonly logs: Logs;
  readonly settings: Settings;
  readonly oneTime: OneTimeTokens;
  readonly records: Records;
  readonly updates: Updates;
  readonly install: InstallTables;
  readonly accounts: Accounts;
  readonly sessions: Sessions;
  readonly apiKeys: ApiKeys;
  readonly recoveryCodes: RecoveryCodes;
  readonly challenges: Challenges;
  readonly secondaries: Secondaries;
  readonly zoneContents: ZoneContentsRepo;
  readonly dnssec: Dnssec;
  private readonly batch: CommitBatch;
  /** What opening did about the key file: created it; sealed values left in clear by an older ipkeep. */
  sealing: { keyFile: string | null; keyCreated: boolean; sealedNow: number } = { keyFile: null, keyCreated: false, sealedNow: 0 };

  /** box: seals the values listed in store/sealed.ts with the data directory's key. */
  constructor(
    readonly db: Driver,
    readonly box: SecretBox,
  ) {
    this.users = new Users(db);
    this.domains = new Domains(db);
    this.hosts = new Hostnames(db);
    this.tokens = new UpdateTokens(db, box);
    this.logs = new Logs(db);
    this.settings = new Settings(db, box);
    this.oneTime = new OneTimeTokens(db);
    this.records = new Records(db);
    this.updates = new Updates(db);
    this.install = new InstallTables(db, box);
    this.accounts = new Accounts(db, box);
    this.sessions = new Sessions(db);
    this.apiKeys = new ApiKeys(db);
    this.recoveryCodes = new RecoveryCodes(db);
    this.challenges = new Challenges(db);
    this.secondaries = new Secondaries(db, box);
    this.zoneContents = new ZoneContentsRepo(db);
    this.dnssec = new Dnssec(db, box);
    this.batch = new CommitBatch(
      (commits) => {
        this.updates.commit(commits);
        // Counted once committed: a rolled-back update is not a result.
        for (const u of commits) for (const l of u.logs) metrics.updates.inc(l.result);
      },
      (e) => log("error", "an update's history line could not be stored", { error: (e as Error).message }),
    );
  }

  /**
   * Opens (migrating) the database, and its key file: `secret.key` beside it unless keyFile
   * says otherwise, created when missing. What an older ipkeep stored in clear is sealed now.
   * ":memory:" gets a key of its own that dies with it.
   */
  static async open(path: string, opts: { keyFile?: string } = {}): Promise<Store> {
    const db = await openDatabase(path);
    try {
      const keyFile = opts.keyFile ?? (path === ":memory:" ? null : join(dirname(path), KEY_FILE));
      const k = keyFile ? loadOrCreateKey(keyFile) : { key: new Uint8Array(randomBytes(KEY_BYTES)), created: true };
      const store = new Store(db, new SecretBox(k.key));
      store.sealing = { keyFile, keyCreated: k.created, sealedNow: sealInClear(db, store.box) };
      return store;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  /** Changes committed by any connection, this one excluded (PRAGMA data_version semantics). */
  dataVersion(): number {
    return this.db.prepare("PRAGMA data_version").get<{ data_version: number }>()!.data_version;
  }

  /** Writes what the update path has waiting (history lines of nochg ride with the next commit). */
  flushUpdates(): void {
    this.batch.flush();
  }

  close(): void {
    // Lines waiting for company are written, not lost with the process.
    this.batch.flush();
    this.db.close();
  }

  // UpdateStore
  tokenByHash(hash: string) {
    return this.tokens.byHash(hash);
  }
  /** A host as the update path sees it: with the addresses of its batch not yet written. */
  hostByName(name: string) {
    const h = this.hosts.byName(name);
    const pending = h ? this.batch.pendingAddresses(h.id) : undefined;
    return h && pending ? { ...h, ...pending } : h;
  }
  /** Durable before it resolves when it changes an address; shares its fsync with its neighbours (commit-batch.ts). */
  commitUpdate(u: UpdateCommit): Promise<void> {
    return this.batch.commit(u);
  }
  onlyHostnameOf(token: UpdateTokenRow): string | null {
    return this.updates.onlyHostnameOf(token);
  }
  pruneUpdateLog(p: { before: number; maxPerHost: number; maxUnattached: number }): number {
    return this.updates.prune(p);
  }
}
