/**
 * One HTTP exchange over a raw TCP socket, byte for byte as written: for requests no HTTP
 * client library will send (HTTP/1.0 without Host, an empty or malformed Host). The request
 * must make the server close the connection (HTTP/1.0, or "Connection: close").
 */
import { connect } from "node:net";

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
  bytes: string;
}

export function rawHttp(port: number, request: string, host = "127.0.0.1"): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, host);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close from server after: ${JSON.stringify(request.slice(0, 80))}`));
    }, 5000);
    sock.on("connect", () => sock.write(request, "latin1"));
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      const bytes = Buffer.concat(chunks).toString("latin1");
      const split = bytes.indexOf("\r\n\r\n");
      const [statusLine = "", ...lines] = bytes.slice(0, split < 0 ? undefined : split).split("\r\n");
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()] as [string, string]));
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: split < 0 ? "" : bytes.slice(split + 4), bytes });
    });
  });
}
