"""Lesson 16: a storefront API made ready for production."""
