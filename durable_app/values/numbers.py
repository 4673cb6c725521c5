"""The range of numbers the app accepts anywhere."""

MAX_NUMBER_MAGNITUDE = 2**53
"""Items and amounts stay within JSON's exactly representable integers, so sums of squares stay finite."""
