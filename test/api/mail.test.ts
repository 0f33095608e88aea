/**
 * Mail through a real SMTP conversation: nodemailer (src/mail.ts) against a local SMTP sink on
 * 127.0.0.1, port 0. Password reset, registration confirmation and invitations arrive with
 * working one-time links.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ApiHarness, apiHarness, type TestUser } from "../helpers/api";

interface Received {
  to: string[];
  data: string;
}

let sink: SMTPServer;
let port: number;
let inbox: Received[];
let h: ApiHarness;
let admin: TestUser;

beforeEach(async () => {
  inbox = [];
  sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, cb) {
      let data = "";
      stream.on("data", (c: Buffer) => (data += c.toString("utf8")));
      stream.on("end", () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  port = (sink.server.address() as AddressInfo).port;
  h = await apiHarness();
  admin = await h.user("admin@example.test", { role: "admin" });
  const s = await h.call("PATCH", "/api/settings", {
    token: admin.jwt,
    body: { smtp: { host: "127.0.0.1", port, secure: false, from: "ipkeep@example.test" } },
  });
  expect(s.status).toBe(200);
});

afterEach(async () => {
  h.close();
  await new Promise<void>((resolve) => sink.close(() => resolve()));
});

async function nextMail(count = 1): Promise<Received> {
  for (let i = 0; i < 200 && inbox.length < count; i++) await new Promise((r) => setTimeout(r, 25));
  expect(inbox.length).toBeGreaterThanOrEqual(count);
  return inbox[count - 1]!;
}

/** Quoted-printable may wrap long lines with "=\r\n". */
const unwrap = (data: string) => data.replace(/=\r?\n/g, "").replace(/=3D/g, "=");

describe("mail over SMTP", () => {
  it("sendResetPasswordEmail: a reset mail with a working single-use link", async () => {
    const u = await h.user("user@example.test");
    const r = await h.call("POST", "/api/auth/password-reset", { body: { email: "user@example.test" } });
    expect(r.status).toBe(202);
    const mail = await nextMail();
    expect(mail.to).toEqual(["user@example.test"]);
    const token = /https:\/\/ddns\.example\.test\/reset\/(ipko_[\w-]+)/.exec(unwrap(mail.data))![1]!;
    expect((await h.call("POST", "/api/auth/password-reset/confirm", { body: { token, password: "reset by mail" } })).status).toBe(204);
    expect((await h.call("POST", "/api/auth/login", { body: { email: u.email, password: "reset by mail" } })).status).toBe(200);
  });

  it("sends nothing for an unknown address, and answers the same", async () => {
    const r = await h.call("POST", "/api/auth/password-reset", { body: { email: "nobody@example.test" } });
    expect(r.status).toBe(202);
    await h.call("POST", "/api/auth/password-reset", { body: { email: "admin@example.test" } });
    const mail = await nextMail();
    expect(mail.to).toEqual(["admin@example.test"]);
    expect(inbox).toHaveLength(1);
  });

  it("confirmEmail: registration sends a confirmation link that confirms the address", async () => {
    await h.call("PATCH", "/api/settings", { token: admin.jwt, body: { registrationOpen: true } });
    const reg = await h.call("POST", "/api/auth/register", { body: { email: "new@example.test", password: "a long password" } });
    expect(reg.body.user.emailConfirmed).toBe(false);
    const mail = await nextMail();
    const token = /\/confirm\/(ipko_[\w-]+)/.exec(unwrap(mail.data))![1]!;
    expect((await h.call("POST", "/api/auth/confirm-email", { body: { token } })).status).toBe(204);
    expect((await h.call("GET", "/api/auth/me", { token: reg.body.token })).body.emailConfirmed).toBe(true);
  });

  it("createUser: the invitation is mailed to the invitee", async () => {
    const inv = await h.call("POST", "/api/users/invitations", { token: admin.jwt, body: { email: "friend@example.test" } });
    const mail = await nextMail();
    expect(mail.to).toEqual(["friend@example.test"]);
    expect(unwrap(mail.data)).toContain(inv.body.url);
  });
});
