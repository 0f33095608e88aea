import type { Command } from "commander";
import { fail } from "../core/errors";
import type { RecordView } from "../core/views";
import { print, table } from "./common";
import { domainByName, idArg, resourceAction } from "./remote";

const num = (v: string) => (/^\d{1,10}$/.test(v) ? Number(v) : Number.NaN);
const shown = (r: RecordView) => (r.priority === null ? r.content : `${r.priority} ${r.content}`);

export function registerRecord(program: Command): void {
  const record = program.command("record").description("static DNS records (local database, or the API with --server)");
  record
    .command("add <domain> <type> <name> <content...>")
    .description('add a record, e.g. "record add example.com MX @ mail.example.com --priority 10" (name relative to the domain, @ for the apex)')
    .option("--ttl <seconds>", "TTL (default 3600)", num)
    .option("--priority <n>", "MX/SRV priority", num)
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, domain: string, type: string, name: string, content: string[], opts: { ttl?: number; priority?: number }) => {
        const d = await domainByName(rc.res, domain);
        const r = await rc.res.createRecord(d.id, { type, name, content: content.join(" "), ttl: opts.ttl, priority: opts.priority });
        print(rc, { record: r }, `Added record ${r.id}: ${r.name} ${r.ttl} ${r.type} ${shown(r)}`);
      }),
    );
  record
    .command("list <domain>")
    .description("list a domain's records")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, domain: string) => {
        const rows = await rc.res.listRecords((await domainByName(rc.res, domain)).id);
        print(rc, rows, table([["ID", "NAME", "TTL", "TYPE", "CONTENT"], ...rows.map((r) => [String(r.id), r.name, String(r.ttl), r.type, shown(r)])]));
      }),
    );
  record
    .command("set <domain> <id>")
    .description("change a record's content, priority, name or TTL")
    .option("--content <text>", "new content")
    .option("--priority <n>", "MX/SRV priority", num)
    .option("--name <name>", "new owner name (relative to the domain, @ for the apex)")
    .option("--ttl <seconds>", "new TTL", num)
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, domain: string, id: string, opts: { content?: string; priority?: number; name?: string; ttl?: number }) => {
        const n = idArg(id, "Record");
        const patch = { content: opts.content, priority: opts.priority, name: opts.name, ttl: opts.ttl };
        if (Object.values(patch).every((v) => v === undefined)) fail("invalid_input", "Nothing to set: give --content, --priority, --name or --ttl");
        // Only the fields given: JSON drops the undefined ones, so the API sees a minimal patch.
        const r = await rc.res.updateRecord((await domainByName(rc.res, domain)).id, n, patch);
        print(rc, { record: r }, `Record ${r.id}: ${r.name} ${r.ttl} ${r.type} ${shown(r)}`);
      }),
    );
  record
    .command("rm <domain> <id>")
    .description("delete a record")
    .option("--json", "machine-readable output")
    .action(
      resourceAction(async (rc, domain: string, id: string) => {
        const n = idArg(id, "Record");
        await rc.res.removeRecord((await domainByName(rc.res, domain)).id, n);
        print(rc, { removed: n }, `Removed record ${n}`);
      }),
    );
}
