/**
 * The mail port (core/mail.ts) on nodemailer: one SMTP transport per settings in force.
 */
import nodemailer from "nodemailer";
import type { Mailer, SmtpSettings } from "./core/mail";

/** A stuck SMTP server must not hold sockets open for minutes. */
const SMTP_TIMEOUT_MS = 15_000;

export function createMailer(smtp: SmtpSettings): Mailer {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? "" } : undefined,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  return {
    async send(msg) {
      try {
        await transport.sendMail({ from: smtp.from, to: msg.to, subject: msg.subject, text: msg.text });
      } finally {
        transport.close();
      }
    },
  };
}
