/**
 * The simulated Hub88's private key, for the demo only: it signs the simulator's wallet calls, and
 * config/providers.json's `hub88` instance holds its public key as the `$demo` value of
 * HUB88_PUBLIC_KEY. Generated once for the demo (node:crypto, RSA 2048); a real Hub88 keeps its own.
 * With NODE_ENV=production the gateway refuses every `$demo` value, this key's public half too.
 */
export const DEMO_HUB88_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC2WR4TrhGuuk8B
0H2CQKmALe2z5LOoUzEjjdGq0LJYgYeHP6QdcQ2ELQPnf201FEX4hqdDm8dygvrB
EdJCeJvg1E1CxvbYu9tHdRF+GFC6YXh4drfjP82CMRWaaUOoaiP6VaUjUgnV0xNd
B//C6amyGYNazuVjJb+pyKRWrNAKWKghy2/8zbaF5uImIJel4irIutybd2fVYZu+
XvFI36PwBAWiattCNiVPoAqLnR9ZMxL31NMqzBJi4ut9JhlNW3s/XrN7LjpDL+HT
yAOTDRkJlJczCl65FkRjKERVaIw5gcu9Q7riP8crfmDx9CRGZ00G4/92mx2Qa3kT
44tmtGmjAgMBAAECggEABVyTdNKudGvH/O6rchQCp+Ex1xNHcRCZJkl6O8KNK+sL
GB/37GGxmwxTzA/EH0ZsVEVpT6SZ9bUCOIEUpJ21P6QebXM6ON81MGGx1PpUDVbm
WuxqtcTffw+AahzkP2R3kFnKVEKKRX5CWH7ut0V1luYHJbllp0ep3g0nP+Eu8M7j
0B20m1PNbSDGdpQ3dUsE6i7hCwweO/QS767nrHc5MjcSk4jBRjBXjmdhB9ByFqC+
VyUsKf19YZJRZ+CuCekz07K3MeIXNoKiRUY7E/BN+MLoXboygvPz5tARqa4osQ46
UpiBoj5fOP6S07pCw+4D+7oVDsEqd+XJ5deHINpvgQKBgQDldkrcWQt7PNM8vKJg
eeCsQ9Eaje8zO7QdtVjjEnZVxq2xRp7g0HqYwV0R48T6kXFxj4XgfOg4bQLa1rzx
KmsjRSiNab7lXtq68YbxFrXkq2W2c/9b0ZoVnE1x0qGPoKVaqYk7/mH95kAFVhi8
O5GBXHLuXNSstOPxTl2SrZb+QQKBgQDLb+rCh/Bc5830aQERHAAjW5/dKfC4YIL+
zFUvpCiFGkoil6rsoqwKIbuKXYS6OcNcm0EXMOzV94Jo1fWW2qMPdH5Mx8xyK/Vl
mcjuEASVmsc9H/KrEjNmmsC4gXj0dv7MoipS80asysitZ166hCfGYtPNXo+tbaEQ
hbMC5t924wKBgQDLynSQIHFnAU1mSu43mubkd9KVr+r6aJL+M5p/CV2ZrruCj4L5
jY7kbg9XnR/LnjLPtbUj/CtOOdroOwFReufuSjTK61jEY6sFjw7WveHL9kF+eqUX
ih88BDZv2a7tXbKdw6aDZtjm44CGfMG5I3qGFnJoqn+j53/uRzgp1gwdQQKBgFyX
P33yaQ+f4TkQYY/r8pQlK4l5gTopkvVtAoiAaoDKClvcM8sn7q1d1QGQtswbZjNL
5kAr4F8yG4SjfPd/4x8xohpIBWEhaLspVy4i1DNTEsNbOxNpYUOdw4E2TFrXnfh9
Bk5isxQJ53QkzBSP+ZpteIDMPRBuCRSABY2YjrSJAoGAbq+/UkSxv6zuBCvc2b2r
uiYL4HaR/lY8FsK0OgrsfG0hE5KBDmzwTGHmlMwX17ldPeV/HmQd3l3tyBXmOdmt
WrA4Vcje+6oUT98wdhMh7d3iJRrsjRAAoKrzEuz3oJ4KNP0I+LKg3rx4MsrU+cfx
uv15WMSLAFzstfakW0vnKXM=
-----END PRIVATE KEY-----
`;
