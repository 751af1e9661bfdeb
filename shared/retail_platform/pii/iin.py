"""The card networks' issuer identification number (IIN) ranges and PAN lengths: the one table every PAN
detector of the platform uses (free-text masking, raw-to-curated, log masking, compliance-guardian's scans).

Sources (published ranges, checked 2026):
* Wikipedia, "Payment card number", IIN table (as copied 2024-07-19 into a public card-data table found with
  the project's search tool): Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay, Maestro, Mir, RuPay
  (60, 65, 81, 82, 508, 353, 356; 16 digits), Troy (979200-979289; 16), Verve (506099-506198, 650002-650027,
  507865-507964; 16, 18, 19), UATP.
* braintree/credit-card-type `src/lib/card-types.ts` @ d0b8d2a0f0d8: JCB 1800 and 2131, Elo ranges (16 digits),
  Hipercard 606282, Mir 16-19 digits, Diners 14-19; Hipercard 384100/384140/384160 from that library's
  earlier table (as its users still configure it).
* The legacy 15-digit JCB numbers (1800, 2131) as named in issue #15.

Ranges overlap (Discover 622126-622925 lies inside UnionPay 62, Elo and Verve inside Maestro/Discover);
`brand_of` names the most specific range (longest prefix) whose brand uses the number's length.
"""

from __future__ import annotations

from dataclasses import dataclass

_ELO = (
    "401178",
    "401179",
    "431274",
    "438935",
    "451416",
    "457393",
    "457631",
    "457632",
    "504175",
    "506699-506778",
    "509000-509999",
    "627780",
    "636297",
    "636368",
    "650031-650033",
    "650035-650051",
    "650405-650439",
    "650485-650538",
    "650541-650598",
    "650700-650718",
    "650720-650727",
    "650901-650978",
    "651652-651679",
    "655000-655019",
    "655021-655058",
)
# brand -> (IIN prefixes or prefix ranges "low-high" of equal width, allowed PAN lengths)
ISSUERS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "visa": (("4",), (13, 16, 19)),
    "mastercard": (("51-55", "2221-2720"), (16,)),
    "amex": (("34", "37"), (15,)),
    "discover": (("6011", "644-649", "65", "622126-622925"), (16, 17, 18, 19)),
    "diners": (("300-305", "3095", "36", "38-39"), (14, 15, 16, 17, 18, 19)),
    "jcb": (("3528-3589",), (16, 17, 18, 19)),
    "jcb_legacy": (("1800", "2131"), (15, 16, 17, 18, 19)),
    "unionpay": (("62", "81"), (16, 17, 18, 19)),
    "maestro": (("50", "56-69"), tuple(range(12, 20))),
    "mir": (("2200-2204",), (16, 17, 18, 19)),
    "rupay": (("60", "65", "81", "82", "508", "353", "356"), (16,)),
    "troy": (("979200-979289",), (16,)),
    "elo": (_ELO, (16,)),
    "hipercard": (("606282", "384100", "384140", "384160"), (16, 19)),
    "verve": (("506099-506198", "650002-650027", "507865-507964"), (16, 18, 19)),
    "uatp": (("1",), (15,)),
}
# what a brand is called outside this table (jcb_legacy is JCB)
BRAND_NAMES = {"jcb_legacy": "jcb"}


@dataclass(frozen=True)
class IinRange:
    """One prefix range of one brand: numbers whose first `width` digits lie in [low, high]."""

    brand: str
    low: str
    high: str
    lengths: frozenset[int]

    @property
    def width(self) -> int:
        return len(self.low)


def _ranges() -> tuple[IinRange, ...]:
    out = []
    for brand, (prefixes, lengths) in ISSUERS.items():
        for prefix in prefixes:
            low, _, high = prefix.partition("-")
            out.append(IinRange(BRAND_NAMES.get(brand, brand), low, high or low, frozenset(lengths)))
    # most specific first, so the first admitting range is the brand
    return tuple(sorted(out, key=lambda r: -r.width))


RANGES = _ranges()
MIN_LENGTH = min(min(r.lengths) for r in RANGES)
MAX_LENGTH = max(max(r.lengths) for r in RANGES)
_BY_LENGTH = {n: tuple(r for r in RANGES if n in r.lengths) for n in range(MIN_LENGTH, MAX_LENGTH + 1)}


def brand_of(digits: str) -> str | None:
    """The brand of the most specific IIN range that admits these digits at their length, or None."""
    for r in _BY_LENGTH.get(len(digits), ()):
        if r.low <= digits[: r.width] <= r.high:
            return r.brand
    return None
