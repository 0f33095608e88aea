import type { Command } from "commander";
import { listNodes, nodeView, revokeNodeById } from "../core/install";
import { action, print, table } from "./common";
import { idArg } from "./remote";

export function registerNode(program: Command): void {
  const node = program.command("node").description("enrolled machines (secondaries and agents; local database)");
  node
    .command("list")
    .description("list enrolled machines, revoked ones included")
    .option("--json", "machine-readable output")
    .action(
      action((ctx) => {
        const rows = listNodes(ctx).map(nodeView);
        print(
          ctx,
          rows,
          rows.length === 0
            ? "No enrolled machines (ipkeep code issue --role secondary|agent makes an install code)"
            : table([
                ["ID", "ROLE", "NAME", "STATUS", "PUBLIC IP", "LAST CHECK-IN"],
                ...rows.map((n) => [String(n.id), n.role, n.name, n.status, n.public_ip ?? "-", n.last_checkin_at ?? "-"]),
              ]),
        );
      }),
    );
  node
    .command("revoke <id>")
    .description("cut a machine off at once: node and update tokens, TSIG key, NS sets and NOTIFY")
    .option("--json", "machine-readable output")
    .action(
      action((ctx, id: string) => {
        const n = nodeView(revokeNodeById(ctx, idArg(id, "Node"), { id: null, name: "cli", address: null }));
        print(
          ctx,
          n,
          n.role === "secondary"
            ? `Revoked secondary ${n.name} (id ${n.id}): its TSIG key no longer transfers, and it left every NS set and the NOTIFY targets. Update the delegation at the parent if it listed ${n.name}.`
            : `Revoked agent ${n.name} (id ${n.id}): its node and update tokens no longer work; the hostname stays.`,
        );
      }),
    );
}
