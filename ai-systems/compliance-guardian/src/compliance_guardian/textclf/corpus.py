"""Seeded generator of labelled free text (order notes, support messages, product listings).

Each class has several templates and vocabularies, with paraphrases that share few words with the
obvious keywords, and benign texts that borrow the keywords ("card" as a gift card, "password" in a
delivery note), so that the keyword baseline is not trivially right.
"""

from __future__ import annotations

import random

from compliance_guardian.textclf import LABELS

_NAMES = ["Anna", "Lukas", "Emma", "Noah", "Sofia", "Liam", "Maja", "Oskar", "Chloé", "Mateo"]
_ITEMS = ["blue jacket", "coffee mug", "desk lamp", "running shoes", "phone case", "wool scarf", "backpack", "kettle"]
_BRANDS_TEST_PANS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011 0009 9013 9424"]

_BENIGN = [
    "Please leave the parcel with the neighbour at number {n}.",
    "Can I change the size of my {item} to a medium?",
    "The {item} arrived damaged, I would like a replacement.",
    "Is the {item} available in green? Thanks, {name}",
    "Gift wrap please, it's a birthday present for {name}.",
    "I paid with my gift card but the balance looks wrong on order {order}.",
    "Where is my order {order}? Tracking has not moved for {n} days.",
    "Door code is {code}, ring twice please.",
    "Can you send the invoice for order {order} to my company address?",
    "Great service, the {item} fits perfectly!",
    "I forgot my password, how do I reset it on the app?",
    "Please cancel order {order}, I ordered the wrong {item}.",
    "Does the {item} come with a warranty card?",
    "Deliver after 5pm, nobody is home in the morning.",
]
_PAYMENT = [
    "Charge my card {pan} exp {exp} cvv {cvv} for the {item}.",
    "Here are my card details: {pan}, expiry {exp}, code on the back {cvv}.",
    "The payment failed, please try this one instead {pan} {exp}.",
    "My visa number is {pan_words}, please use it for order {order}.",
    "use the card ending in {last4}, full number {pan}, security code {cvv}",
    "I'll read you the digits: {pan_words}, valid until {exp}.",
    "Please bill the {item} to my mastercard {pan}.",
    "Card number for the refund: {pan} (holder {name}).",
]
_PHISHING = [
    "Your account has been suspended. Verify your login at http://{domain}/verify within 24 hours.",
    "URGENT: confirm your payment details here {domain}/secure or your order {order} will be cancelled.",
    "Dear customer, we detected unusual activity. Reply with your password and one-time code to unlock.",
    "Support team here, please send us the SMS code you just received so we can release the refund.",
    "You won a voucher worth {n}00 EUR! Claim it now at http://{domain}/claim with your bank login.",
    "This is the security department: update your billing info via {domain} immediately.",
    "Hi {name}, I am from the shop's finance team, transfer the fee to the account below to get your parcel.",
    "Click the link to re-activate your account before it is deleted: https://{domain}/login",
]
_PROHIBITED = [
    "Selling unregistered handgun parts, shipping discreetly worldwide.",
    "Replica designer {item} with fake logos, indistinguishable from original.",
    "Prescription painkillers without prescription, fast delivery, bulk discount.",
    "Ivory carvings and rhino horn pieces for collectors.",
    "Counterfeit banknotes, high quality, pass the pen test.",
    "Stolen credit card dumps with CVV, fresh and valid, bulk pricing.",
    "Homemade fireworks and explosives kit, no licence needed.",
    "Cannabis edibles shipped in plain packaging, no ID check.",
    "Hacked streaming accounts, lifetime access, cheap.",
    "Fake passports and driving licences, any country.",
]
_DOMAINS = ["secure-shop-login.xyz", "account-verify.top", "paypa1-help.com", "refund-center.info", "bank-check.co"]
_TEMPLATES = {
    "benign": _BENIGN,
    "shares_payment_data": _PAYMENT,
    "phishing_social_engineering": _PHISHING,
    "prohibited_item": _PROHIBITED,
}
_SHARES = {"benign": 0.55, "shares_payment_data": 0.15, "phishing_social_engineering": 0.15, "prohibited_item": 0.15}


def _fill(template: str, rng: random.Random) -> str:
    pan = rng.choice(_BRANDS_TEST_PANS)
    words = " ".join(pan.replace("-", " ").replace(" ", "")[i : i + 4] for i in range(0, len(pan.replace(" ", "")), 4))
    text = template.format(
        n=rng.randint(1, 99),
        item=rng.choice(_ITEMS),
        name=rng.choice(_NAMES),
        order=rng.randint(1_000_000, 1_999_999),
        code=rng.randint(1000, 9999),
        pan=pan,
        pan_words=words,
        exp=f"{rng.randint(1, 12):02d}/{rng.randint(25, 31)}",
        cvv=rng.randint(100, 999),
        last4=pan[-4:],
        domain=rng.choice(_DOMAINS),
    )
    if rng.random() < 0.3:
        text = text.lower()
    if rng.random() < 0.2:
        text = text + " " + rng.choice(["Thanks!", "Regards", "asap", "pls", ":)"])
    return text


def generate(n: int, seed: int = 7) -> tuple[list[str], list[int]]:
    """n labelled texts (label indexes into LABELS), deterministic for a seed."""
    rng = random.Random(seed)
    labels = rng.choices(range(len(LABELS)), weights=[_SHARES[label] for label in LABELS], k=n)
    texts = [_fill(rng.choice(_TEMPLATES[LABELS[k]]), rng) for k in labels]
    return texts, labels
