use serde::{Deserialize, Serialize};

/// The coarse terminal type stored with an SSAID (notice §01): never the full User-Agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TerminalType {
    Desktop,
    Mobile,
    Tablet,
    Bot,
    #[default]
    Unknown,
}

impl TerminalType {
    pub fn from_user_agent(user_agent: Option<&str>) -> Self {
        let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
            return Self::Unknown;
        };
        let Some(parsed) = woothee::parser::Parser::new().parse(ua) else {
            return Self::Unknown;
        };
        match parsed.category {
            "crawler" => Self::Bot,
            "pc" => Self::Desktop,
            // woothee counts tablets as smartphones; their UAs still say which they are.
            "smartphone" | "mobilephone" if is_tablet(ua) => Self::Tablet,
            "smartphone" | "mobilephone" => Self::Mobile,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Desktop => "desktop",
            Self::Mobile => "mobile",
            Self::Tablet => "tablet",
            Self::Bot => "bot",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Desktop,
            Self::Mobile,
            Self::Tablet,
            Self::Bot,
            Self::Unknown,
        ]
        .into_iter()
        .find(|t| t.as_str() == raw)
    }
}

/// iPads say so; Android tablets are the Android browsers that leave out "Mobile".
fn is_tablet(ua: &str) -> bool {
    ua.contains("iPad")
        || ua.contains("Tablet")
        || (ua.contains("Android") && !ua.contains("Mobile"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ua: &str) -> TerminalType {
        TerminalType::from_user_agent(Some(ua))
    }

    #[test]
    fn maps_real_user_agents() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
                TerminalType::Desktop,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
                TerminalType::Desktop,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                TerminalType::Desktop,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                TerminalType::Mobile,
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
                TerminalType::Mobile,
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                TerminalType::Tablet,
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
                TerminalType::Tablet,
            ),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                TerminalType::Bot,
            ),
            (
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                TerminalType::Bot,
            ),
        ];
        for (ua, expected) in cases {
            assert_eq!(kind(ua), expected, "{ua}");
        }
    }

    #[test]
    fn missing_or_odd_user_agents_are_unknown() {
        assert_eq!(TerminalType::from_user_agent(None), TerminalType::Unknown);
        assert_eq!(kind("   "), TerminalType::Unknown);
        assert_eq!(kind("definitely not a browser"), TerminalType::Unknown);
    }

    #[test]
    fn names_round_trip() {
        for t in [
            TerminalType::Desktop,
            TerminalType::Mobile,
            TerminalType::Tablet,
            TerminalType::Bot,
            TerminalType::Unknown,
        ] {
            assert_eq!(TerminalType::parse(t.as_str()), Some(t));
        }
        assert_eq!(TerminalType::parse("phone"), None);
    }
}
