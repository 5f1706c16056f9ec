//! A passkey authenticator in software, for API tests: it answers the options of
//! `POST /auth/passkeys/register/start` and `.../login/start` (or a second step's
//! `webauthn`) as a browser's `credential.toJSON()` would, with an ES256 key of its
//! own, user presence and verification flagged, and "none" attestation. The two
//! CBOR structures a registration needs (the attestation object and the COSE key)
//! are small fixed maps, written here byte by byte.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use rand::RngCore as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Flags of the authenticator data: user present, user verified, attested data.
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED: u8 = 0x40;

/// One discoverable credential, for the origin it was made at.
pub struct SoftPasskey {
    key: SigningKey,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
    /// The origin the browser reports (a phishing site's, say, to see it refused).
    pub origin: String,
    /// Whether it claims to have verified the user (a key without a PIN does not).
    pub verifies_user: bool,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SoftPasskey {
    /// A new authenticator that the browser at `origin` (`http://localhost:<port>`)
    /// talks to.
    pub fn new(origin: &str) -> Self {
        let mut credential_id = vec![0u8; 32];
        rand::rng().fill_bytes(&mut credential_id);
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Self {
            key: SigningKey::from_slice(&secret).expect("32 random bytes are a P-256 key"),
            credential_id,
            user_handle: Vec::new(),
            counter: 0,
            origin: origin.to_owned(),
            verifies_user: true,
        }
    }

    fn client_data(&self, kind: &str, public_key: &Value) -> Vec<u8> {
        let challenge = public_key["challenge"].as_str().expect("a challenge");
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    fn flags(&self) -> u8 {
        USER_PRESENT | if self.verifies_user { USER_VERIFIED } else { 0 }
    }

    /// What `navigator.credentials.create(options)` gives, as JSON.
    pub fn register(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rp"]["id"].as_str().expect("an rp id");
        let user_id = public_key["user"]["id"].as_str().expect("a user id");
        self.user_handle = URL_SAFE_NO_PAD.decode(user_id).expect("base64url");
        let client_data = self.client_data("webauthn.create", public_key);
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags() | ATTESTED);
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        let id_len = u16::try_from(self.credential_id.len()).expect("a short id");
        auth_data.extend(id_len.to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_key());
        // {"fmt": "none", "attStmt": {}, "authData": <bytes>}
        let mut attestation = vec![0xa3];
        attestation.extend(cbor_text("fmt"));
        attestation.extend(cbor_text("none"));
        attestation.extend(cbor_text("attStmt"));
        attestation.push(0xa0);
        attestation.extend(cbor_text("authData"));
        attestation.extend(cbor_bytes(&auth_data));
        self.credential(json!({
            "clientDataJSON": b64(&client_data),
            "attestationObject": b64(&attestation),
            "transports": ["internal"],
        }))
    }

    /// What `navigator.credentials.get(options)` gives, as JSON.
    pub fn sign(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rpId"].as_str().expect("an rp id");
        let client_data = self.client_data("webauthn.get", public_key);
        self.counter += 1;
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(self.flags());
        auth_data.extend(self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: DerSignature = self.key.sign(&signed);
        self.credential(json!({
            "clientDataJSON": b64(&client_data),
            "authenticatorData": b64(&auth_data),
            "signature": b64(signature.as_bytes()),
            "userHandle": b64(&self.user_handle),
        }))
    }

    /// A `PublicKeyCredential`'s JSON form around `response`.
    fn credential(&self, response: Value) -> Value {
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
        })
    }

    /// The public key as COSE: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let (x, y) = (point.x().expect("x"), point.y().expect("y"));
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cose.extend(cbor_bytes(x));
        cose.push(0x22);
        cose.extend(cbor_bytes(y));
        cose
    }
}

/// A CBOR header of major type `major` for a length under 65,536.
fn cbor_head(major: u8, len: usize) -> Vec<u8> {
    let major = major << 5;
    match u8::try_from(len) {
        Ok(small) if small < 24 => vec![major | small],
        Ok(byte) => vec![major | 24, byte],
        Err(_) => {
            let [hi, lo] = u16::try_from(len).expect("short").to_be_bytes();
            vec![major | 25, hi, lo]
        }
    }
}

fn cbor_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = cbor_head(2, bytes.len());
    out.extend(bytes);
    out
}

fn cbor_text(text: &str) -> Vec<u8> {
    let mut out = cbor_head(3, text.len());
    out.extend(text.as_bytes());
    out
}
