"""SAP ECC / S/4HANA adapter over SOAP (zeep). Not implemented yet."""
