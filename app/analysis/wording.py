"""How numbers read in the sentences checks and symptoms write: one place, so every detail says
"p<0.001", "1 epoch" and "widens the gap by 27%" the same way."""

SMALL_P = 0.001
TWO_DIGITS_FROM = 0.01


def pvalue(p: float, name: str = "p") -> str:
    """`p<0.001`, `p=0.004`, `p=0.72`, `p=1.00`: never `1` or `4.2e-07`."""
    if p < SMALL_P:
        return f"{name}<{SMALL_P:g}"
    return f"{name}={p:.3f}" if p < TWO_DIGITS_FROM else f"{name}={p:.2f}"


def count(n: int, noun: str) -> str:
    """`1 epoch`, `3 epochs`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def closes(share: float, what: str) -> str:
    """`closes 40% of the gap`, or `widens the gap by 27%` when the share is negative."""
    return f"closes {share:.0%} of {what}" if share >= 0 else f"widens {what} by {-share:.0%}"


def change(share: float) -> str:
    """`40% lower` or `27% higher`: a relative change without a minus sign to decode."""
    return f"{share:.0%} lower" if share >= 0 else f"{-share:.0%} higher"
