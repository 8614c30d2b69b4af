"""Operations: what was bought or sold, for which account."""
