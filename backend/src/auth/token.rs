//! Signed session tokens (JWT, HS256 only). A token names a server-side session row;
//! the row, not the token, decides whether the session is still alive.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Clock skew tolerated on `exp`.
const LEEWAY_SECONDS: u64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Tokens {
    pub fn new(secret: &[u8]) -> Self {
        // Pinned to HS256: a token claiming any other algorithm (including `none`) fails.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(
        &self,
        user_id: i32,
        session_id: &str,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_owned(),
            iat: Utc::now().timestamp(),
            exp: expires_at.timestamp(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of a well-signed, unexpired token; `None` for anything else.
    pub fn decode(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn round_trip_and_rejections() {
        let tokens = Tokens::new(&[7u8; 32]);
        let token = tokens
            .issue(42, "abc", Utc::now() + Duration::minutes(5))
            .unwrap();
        let claims = tokens.decode(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("42", "abc"));

        let other_key = Tokens::new(&[8u8; 32]);
        assert!(other_key.decode(&token).is_none(), "wrong key");

        let expired = tokens
            .issue(42, "abc", Utc::now() - Duration::seconds(10))
            .unwrap();
        assert!(
            tokens.decode(&expired).is_none(),
            "expired beyond the leeway"
        );

        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .unwrap();
        assert!(tokens.decode(&hs512).is_none(), "algorithm is pinned");
    }
}
