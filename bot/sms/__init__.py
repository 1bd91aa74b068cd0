"""SMS text: GSM-7 encoding rules, natural short dates, and the words of every SMS."""
