"""Every consistency check of the site's money, for ``flask ledger check`` and admins.

The ledger's own invariants first, then each feature's states against its transfers,
then the counters kept beside the rows they count (invariant 11). Listed explicitly: a
feature that moves money, or keeps such a counter, adds its checks here.
"""

from offload.accounts.checks import COUNTER_CHECKS
from offload.commissions.checks import COMMISSION_CHECKS
from offload.ledger.checks import LEDGER_CHECKS, Check
from offload.milestones.checks import MILESTONE_CHECKS
from offload.offers.checks import OFFER_CHECKS
from offload.wallet.checks import WALLET_CHECKS

MONEY_CHECKS: tuple[Check, ...] = (LEDGER_CHECKS + WALLET_CHECKS + OFFER_CHECKS
                                   + COMMISSION_CHECKS + MILESTONE_CHECKS + COUNTER_CHECKS)
