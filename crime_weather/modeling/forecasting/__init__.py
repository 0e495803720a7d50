"""Claims about coming days: the weekly forecast table."""
