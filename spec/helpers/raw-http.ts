// Sends bytes exactly as written, for requests that HTTP clients refuse to build (repeated
// Authorization headers, raw non-ASCII in the target).

import http from "node:http";
import net from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export async function rawRequest(
  handler: http.RequestListener,
  head: string,
): Promise<RawResponse> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as net.AddressInfo;
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.write(Buffer.from(`${head}\r\nHost: test\r\nConnection: close\r\n\r\n`, "latin1"));
      });
      let received = "";
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
      socket.on("end", () => resolve(received));
      socket.on("error", reject);
    });
    const [top = "", ...rest] = text.split("\r\n\r\n");
    const [statusLine = "", ...headerLines] = top.split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") };
  } finally {
    server.close();
  }
}
