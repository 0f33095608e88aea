/**
 * Outgoing mail as core sees it: a message and a port that delivers it. src/mail.ts
 * implements the port with nodemailer over the SMTP server the admin configured.
 */

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(msg: MailMessage): Promise<void>;
}

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user: string | null;
  password: string | null;
  from: string;
}

/** Builds a mailer for the SMTP settings in force at the moment of sending. */
export type MailerFactory = (smtp: SmtpSettings) => Mailer;
