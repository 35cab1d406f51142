"""The Portfolio sheet as every command reads it: each holding, whether it counts, and if not, why.

The sheet's own formula (Portfolio column I, *Spot value*) leaves a row out of
the totals when its quantity is text or negative, or its *Value at* is text;
``plan`` and the backtest read the typed inputs through :func:`read_holdings`
and leave out exactly those rows, with the same words (:mod:`messages`), each
naming the cell to edit. An exchange xlhedge does not read is a problem too.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlhedge.workbook import layout as L
from xlhedge.workbook import messages as M
from xlhedge.workbook import spec
from xlhedge.workbook.formula import compare


@dataclass(frozen=True)
class Holding:
    """One typed Portfolio row (asset filled in)."""

    row: int  # its row on the Portfolio sheet
    asset: str  # upper case
    quantity: object  # as typed
    typed_price: object
    hedge_with: str  # OWN_PERP or BTC_PERP, as the sheet reads the typed choice
    exchange: str  # the row's, else the default exchange (lower case); "best": the Venues sheet picks
    exchange_typed: bool
    problem: str  # "" when it counts; else "ETH (Portfolio!B6): quantity is text: type a number"
    default_exchange: str = ""  # the Settings' default exchange (where a "best" row's price is read)

    @property
    def coins(self) -> float:
        """The quantity held (0 when the row has a problem or no quantity yet)."""
        return float(self.quantity) if not self.problem and _is_number(self.quantity) else 0.0

    @property
    def contract_coin(self) -> str:
        """The coin whose perpetual carries the short: BTC for a BTC-perp row, else the row's own."""
        return "BTC" if self.hedge_with == L.BTC_PERP else self.asset

    @property
    def exchange_supported(self) -> bool:
        return self.exchange in L.ROW_EXCHANGES

    @property
    def price_exchange(self) -> str:
        """Where the row's price (and, for a BTC-perp row, its beta's prices) is read: a "best" row's
        at the default exchange, as the sheet's *Price used*."""
        return self.default_exchange if self.exchange == L.BEST else self.exchange


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _said(message: str) -> str:
    """A cell message without its error code: "#VALUE! quantity is text: ..." -> "quantity is text: ..."."""
    return message.split(" ", 1)[1]


def holding_problem(asset: str, row: int, quantity, typed_price, exchange: str | None, exchange_typed: bool) -> str:
    """Why a typed Portfolio row is left out of the totals ("" when it is not), in the sheet's words and
    naming the cell to edit. The order is the sheet's: quantity text, Value at text, quantity negative
    (an unsupported exchange first; ``exchange`` None: not checked)."""
    where = f"{L.PORTFOLIO}!{{}}{row}"
    col = spec.PORTFOLIO_COL
    if exchange is not None and exchange not in L.ROW_EXCHANGES:
        cell = where.format(col["exchange"]) if exchange_typed else \
            f"{L.SETTINGS}!B{L.SETTING_ROW['DefaultExchange']}"
        return (f"{asset} ({cell}): exchange '{exchange}' is not supported; choose one of {', '.join(L.EXCHANGES)} "
                f"or {L.BEST}")
    if isinstance(quantity, str) and quantity.strip():
        return f"{asset} ({where.format(col['quantity'])}): {_said(M.MSG_QTY_TEXT)}"
    if isinstance(typed_price, str) and typed_price.strip():
        return f"{asset} ({where.format(col['typed_price'])}): {_said(M.MSG_PRICE_TEXT)}"
    if _is_number(quantity) and quantity < 0:
        return f"{asset} ({where.format(col['quantity'])}): {_said(M.MSG_QTY_NEGATIVE)}"
    return ""


def hedge_choice(typed) -> str:
    """The "Hedge with" a row means, by the sheet's rule (``="BTC perp"``: any case, anything else is
    the own perp)."""
    return L.BTC_PERP if compare("=", "" if typed is None else typed, L.BTC_PERP) is True else L.OWN_PERP


def read_holdings(book) -> list[Holding]:
    """Every Portfolio row with an asset, through the workbook port (``read_portfolio_column``)."""
    cols = {key: book.read_portfolio_column(key)
            for key in ("asset", "quantity", "typed_price", "hedge_with", "exchange")}
    default = str(book.read_setting("DefaultExchange") or L.SETTING_DEFAULT["DefaultExchange"]).strip().lower()
    out = []
    for i, asset in enumerate(cols["asset"]):
        if not isinstance(asset, str) or not asset.strip():
            continue
        typed = cols["exchange"][i]
        exchange_typed = isinstance(typed, str) and bool(typed.strip())
        exchange = typed.strip().lower() if exchange_typed else default
        row = L.PORTFOLIO_FIRST_ROW + i
        name = asset.strip().upper()
        out.append(Holding(row, name, cols["quantity"][i], cols["typed_price"][i],
                           hedge_choice(cols["hedge_with"][i]), exchange, exchange_typed,
                           holding_problem(name, row, cols["quantity"][i], cols["typed_price"][i], exchange,
                                           exchange_typed), default))
    return out


def read_cash(book) -> float:
    """The Portfolio's cash (USD); empty is 0.

    Raises
    ------
    ValueError
        Text or a negative number in the cash cell, naming it.
    """
    cell = f"{spec.PORTFOLIO_COL['spot_value']}{L.CASH_ROW}"
    (cash,) = book.read_cells(L.PORTFOLIO, [cell])
    if cash is None or (isinstance(cash, str) and not cash.strip()):
        return 0.0
    if not _is_number(cash):
        raise ValueError(f"cash ({L.PORTFOLIO}!{cell}) is text ({str(cash)[:30]!r}): type a number of USD, or 0")
    if cash < 0:
        raise ValueError(f"cash ({L.PORTFOLIO}!{cell}) is negative: type 0 or more")
    return float(cash)


def market_coins(holdings: list[Holding]) -> list[str]:
    """The coins whose contracts a refresh fetches: every Portfolio asset, and BTC (beta hedges short it)."""
    coins = list(dict.fromkeys(h.asset for h in holdings))
    return coins if "BTC" in coins else [*coins, "BTC"]


def hedge_contracts(holdings: list[Holding], listed=frozenset()) -> list[tuple[str, str]]:
    """(exchange, coin) of each contract the Portfolio's shorts are placed in (rows on an exchange
    xlhedge reads; the market data describes the contract, so a row with a typing problem still counts).
    A "best" row may be placed on any venue: each of ``listed`` ((exchange, coin) the Funding table
    holds) for its coin."""
    out = []
    for h in holdings:
        if h.exchange == L.BEST:
            out += [(ex, h.contract_coin) for ex in L.EXCHANGES if (ex, h.contract_coin) in listed]
        elif h.exchange_supported:
            out.append((h.exchange, h.contract_coin))
    return list(dict.fromkeys(out))


def btc_hedged(holdings: list[Holding]) -> list[tuple[str, str]]:
    """(coin, exchange) of the rows hedged with the BTC perp, whose betas to BTC a refresh estimates."""
    return [(h.asset, h.price_exchange) for h in holdings
            if h.hedge_with == L.BTC_PERP and h.asset != "BTC" and h.price_exchange in L.EXCHANGES]
