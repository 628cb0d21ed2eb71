// The cluster CA the fake publishes, as kube-controller-manager's root-ca-cert-publisher does in a real cluster: a
// ConfigMap `kube-root-ca.crt` with `ca.crt` in every namespace, created when the namespace is. The certificate is a
// self-signed P-256 CA made once with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1
// -subj /CN=k3s-server-ca@1700000000` for these tests (its key was discarded; it signs nothing).

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

export const FAKE_ROOT_CA = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUDw+C6E0sjKSYffteUnKXEs92giowCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYazNzLXNlcnZlci1jYUAxNzAwMDAwMDAwMB4XDTI2MTEzMDIy
NDUyOFoXDTM2MTEyNzIyNDUyOFowIzEhMB8GA1UEAwwYazNzLXNlcnZlci1jYUAx
NzAwMDAwMDAwMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9PVvIStmWW4Vfd6A
YNPNeFR6JrwcAPTomn9KOL67oqU14e+fROB/kVXAntjxNenz3Za0BVSZMXOnEXkM
p6kGeKNTMFEwHQYDVR0OBBYEFHYAOolETcGbdRjpl34yPcAM6/IAMB8GA1UdIwQY
MBaAFHYAOolETcGbdRjpl34yPcAM6/IAMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDSQAwRgIhAObaAT29VTqaFyh30IvGE6ZPiW/1fh3kqhCVThFimob5AiEA
yvRmCKlHraqm0eMRH2No9knZw583JEp3RO9iO7j3Obc=
-----END CERTIFICATE-----
`;
