#!/usr/bin/env python3
"""Seeds the local platform with a demo seller, through the public API only (as a person would):
sign-up with the emulator's demo seller account, the password set from the e-mailed link (read from
the SMTP sink's Maildir), validation by the operator, a published showcase, and one product of each
kind (an outsourced SaaS and an LLM service published, an OMI product as a draft with its offers,
since OMI publication needs the publisher's copies). Idempotent: an already seeded platform is
left alone. Usage: seed.py GATEWAY_URL MAILDIR SECRETS_DIR OPERATOR_EMAIL OPERATOR_PASSWORD"""
import email
import email.policy
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

url, maildir, secrets, op_email, op_password = sys.argv[1:6]
SELLER = {"email": "seller@demo-seller.example", "access_key": "MKTDEMOSELLER0000002",
          "secret_key": "SELLERDEMOSECRETKEY000000000000000000002"}


def call(method, path, body=None, token=None, ok=(200, 201, 202, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read().decode()
    if status not in ok:
        raise SystemExit(f"seed: {method} {path}: {status} {text}")
    return status, (json.loads(text) if text else {})


def login(address, password):
    _, r = call("POST", "/v1/sessions", {"email": address, "password": password})
    return r["token"]


def link_token(address, kind):
    """The token of the newest `kind` link mailed to address."""
    for _ in range(60):
        best = None
        for d in ("new", "cur"):
            folder = os.path.join(maildir, d)
            for name in os.listdir(folder) if os.path.isdir(folder) else []:
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    msg = email.message_from_binary_file(f, policy=email.policy.default)
                if address not in str(msg.get("To", "")):
                    continue
                body = msg.get_body(preferencelist=("plain",))
                m = re.search(kind + r"\?token=([A-Za-z0-9_-]+)", body.get_content() if body else "")
                if m and (best is None or os.path.getmtime(path) > best[0]):
                    best = (os.path.getmtime(path), m.group(1))
        if best:
            return best[1]
        time.sleep(0.5)
    raise SystemExit(f"seed: no {kind} mail for {address} in {maildir}")


def text(en, fr):
    return {"en": en, "fr": fr}


password_file = os.path.join(secrets, "demo-seller.password")
if os.path.exists(password_file):
    password = open(password_file).read().strip()
    token = login(SELLER["email"], password)
    _, page = call("GET", "/v1/products", token=token)
    if len(page.get("products", [])) >= 3:
        print(f"Demo seller: {SELLER['email']} / {password} (already seeded)")
        sys.exit(0)
else:
    password = "Demo-Seller-" + os.urandom(6).hex() + "-9"
    status, _ = call("POST", "/v1/signup", {
        "organization": {"name": "Demo Seller", "types": ["seller"]},
        "outscale": {"access_key": SELLER["access_key"], "secret_key": SELLER["secret_key"]},
        "admin": {"name": "Demo Seller Admin", "language": "en"}}, ok=(202, 409))
    call("POST", "/v1/password/set", {"token": link_token(SELLER["email"], "set-password"), "password": password})
    with open(password_file, "w") as f:
        f.write(password)
    os.chmod(password_file, 0o600)
    token = login(SELLER["email"], password)

_, me = call("GET", "/v1/me", token=token)
org_id = me.get("organization", {}).get("id") or me.get("organization_id")
op = login(op_email, op_password)
call("POST", f"/v1/operator/organizations/{org_id}/validate", {}, token=op, ok=(200, 409))
time.sleep(1.1)  # the gateway trusts a resolved session for up to 1 s
token = login(SELLER["email"], password)

call("PUT", "/v1/showcase", {
    "name": text("Demo Seller", "Demo Seller"),
    "short_description": text("Databases and AI, ready to run", "Bases de données et IA, prêtes à l'emploi"),
    "description": text("We package open-source databases and models for OUTSCALE.",
                        "Nous préparons des bases de données et des modèles libres pour OUTSCALE."),
    "logo_url": "https://demo-seller.example/logo.png",
    "links": [{"label": text("Website", "Site web"), "url": "https://demo-seller.example"}]}, token=token)
call("POST", "/v1/showcase/publish", token=token)

products = [
    ({"kind": "outsourced", "delivery": "saas", "name": text("Demo Managed Postgres", "Postgres géré Demo"),
      "short_description": text("Postgres as a service", "Postgres en service"),
      "description": text("A managed PostgreSQL, billed by the seller.", "Un PostgreSQL géré, facturé par le vendeur."),
      "instructions": text("Sign in at https://demo-seller.example", "Connectez-vous sur https://demo-seller.example"),
      "categories": ["databases"]},
     {"kind": "subscription", "period": "month", "price_cents": 4900}, True),
    ({"kind": "llm", "name": text("Demo Mistral 7B", "Demo Mistral 7B"),
      "short_description": text("A 7B model on a dedicated GPU", "Un modèle 7B sur GPU dédié"),
      "description": text("Inference endpoint on a flexible GPU.", "Point d'inférence sur GPU flexible."),
      "categories": ["ai-machine-learning"]},
     {"kind": "hourly", "prices": [{"vm_type": "tinav6.c8r32p1", "cents_per_hour": 190}]}, True),
    ({"kind": "omi", "name": text("Demo Postgres OMI", "OMI Postgres Demo"),
      "short_description": text("PostgreSQL 16, tuned", "PostgreSQL 16, optimisé"),
      "description": text("A hardened PostgreSQL image.", "Une image PostgreSQL durcie."),
      "categories": ["databases"], "regions": ["cloudgouv-eu-west-1", "eu-west-2"]},
     {"kind": "hourly", "prices": [{"vm_type": "tinav5.c2r4p2", "cents_per_hour": 12},
                                   {"vm_type": "tinav5.c4r8p1", "cents_per_hour": 30}]}, False),
]
for body, offer, publish in products:
    _, p = call("POST", "/v1/products", body, token=token)
    call("POST", f"/v1/products/{p['id']}/offers", offer, token=token)
    if publish:
        call("POST", f"/v1/products/{p['id']}/publish", {}, token=token)
print(f"Demo seller: {SELLER['email']} / {password} (showcase published; SaaS and LLM products published, "
      "OMI product in draft: its product code comes from the publisher)")
