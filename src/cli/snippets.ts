/**
 * Router and client settings for one hostname, printed by `ipkeep host add --snippets` and
 * mirrored in the README's "Point your router at ipkeep". Text only; the server decides
 * nothing here.
 */

export interface SnippetInput {
  /** "https://ddns.example.com" (no trailing slash). */
  base: string;
  hostname: string;
  token: string;
}

/** The short block printed by default: enough for any dyndns2 router. */
export function compactSnippet(s: SnippetInput): string[] {
  const server = s.base.replace(/^https?:\/\//, "");
  return [
    `Router (dyndns2 / "custom"): server ${server}, username token, password <the token>, hostname ${s.hostname}`,
    `  URL: ${s.base}/nic/update?hostname=${s.hostname}&myip=<ipaddr>`,
    `curl:  curl -fsS -u "token:${s.token}" "${s.base}/nic/update?hostname=${s.hostname}"`,
    `(ipkeep host add --snippets prints settings for UniFi, pfSense, OPNsense, Synology, FRITZ!Box, OpenWrt, DD-WRT, ddclient, inadyn)`,
  ];
}

export function routerSnippets(s: SnippetInput): string[] {
  const server = s.base.replace(/^https?:\/\//, "");
  const host = server.replace(/\/.*$/, "");
  const ssl = s.base.startsWith("https://");
  const { hostname: h, token: t, base } = s;
  return [
    `UniFi (Settings > Internet > WAN > Dynamic DNS): Service dyndns, Hostname ${h}, Username token,`,
    `  Password ${t}, Server ${server}/nic/update?hostname=%h&myip=%i`,
    `pfSense (Services > Dynamic DNS > Custom): Update URL ${base}/nic/update?hostname=${h}&myip=%IP%,`,
    `  Username token, Password ${t}, Result Match: good %IP%|nochg %IP%`,
    `OPNsense (Services > Dynamic DNS, os-ddclient): Service Custom, Protocol DynDNS2, Server ${host},`,
    `  Username token, Password ${t}, Hostname ${h}`,
    `Synology (External Access > DDNS > Customize Provider): Query URL`,
    `  ${base}/nic/update?hostname=__HOSTNAME__&myip=__MYIP__ ; then Username token, Password ${t}, Hostname ${h}`,
    `FRITZ!Box (Internet > Permit Access > DynDNS, user-defined): Update URL`,
    `  ${base}/nic/update?hostname=<domain>&myip=<ipaddr>,<ip6addr>  (IPv6 prefix instead: ${base}/nic/update?hostname=<domain>&myip=<ipaddr>&ip6lanprefix=<ip6lanprefix>)`,
    `  Domain name ${h}, Username token, Password ${t}`,
    `OpenWrt (luci-app-ddns, custom): update_url ${base}/nic/update?hostname=[DOMAIN]&myip=[IP]`,
    `  username token, password ${t}, domain ${h}; one section for IPv4 and one with use_ipv6 for IPv6`,
    `DD-WRT (Setup > DDNS, Custom): DYNDNS Server ${host}, URL /nic/update?hostname=${h}&myip=, Username token, Password ${t}`,
    `ddclient (/etc/ddclient.conf):`,
    `  protocol=dyndns2, ssl=${ssl ? "yes" : "no"}, server=${host}, login=token, password='${t}', use=web, web=${base}/nic/checkip.html`,
    `  ${h}`,
    `inadyn (/etc/inadyn.conf):`,
    `  custom ipkeep { ssl = ${ssl}  ddns-server = "${host}"  ddns-path = "/nic/update?hostname=%h&myip=%i"`,
    `                  username = token  password = "${t}"  hostname = "${h}" }`,
    `cron (every 5 minutes, address detected from the request):`,
    `  */5 * * * * curl -fsS -u "token:${t}" "${base}/nic/update?hostname=${h}" >/dev/null`,
  ];
}
