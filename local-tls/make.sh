#!/bin/sh
# Regenerates the local provider's test TLS material with the openssl CLI (OpenSSL 3):
#   ca.pem             the test certificate authority that clients trust (NODE_EXTRA_CA_CERTS, --cacert)
#   node.pem, node.key the certificate and key every TLS node of the local provider serves
# The CA's key signs node.pem and is then deleted: nothing can be signed by this CA afterwards,
# and the key is never committed. Run from anywhere: `sh local-tls/make.sh`. Commit the three files.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
days=7305 # 20 years

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$tmp/ca.key" -out ca.pem -days "$days" -sha256 \
  -subj "/O=cdk-elasticache-backup/CN=cdk-elasticache-backup local provider test CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout node.key -out "$tmp/node.csr" \
  -subj "/O=cdk-elasticache-backup/CN=localhost"

cat > "$tmp/node.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,IP:0:0:0:0:0:0:0:1,DNS:localhost
EXT
openssl x509 -req -in "$tmp/node.csr" -CA ca.pem -CAkey "$tmp/ca.key" -CAcreateserial -CAserial "$tmp/ca.srl" \
  -out node.pem -days "$days" -sha256 -extfile "$tmp/node.ext"

chmod 644 node.key
openssl verify -CAfile ca.pem node.pem
