"""Risk: check_order() — the only place an order can be vetoed — NAV health, trading states
and the kill switch. Must never: import the router or a venue, or send an order.
"""
